// Package decode turns request input (bodies, path and query parameters)
// into typed values, or into a 400 with a message the client can act on.
// Nothing a client sends can make the gateway answer 500.
package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/gateway/internal/httperr"
)

// Body reads the request body, refusing more than limit bytes. The server
// runs with streamed bodies so that an oversized one reaches this check
// (and a 400 in the contract's shape) instead of the framework's plain 413.
func Body(c *app.RequestContext, limit int) ([]byte, error) {
	if n := c.Request.Header.ContentLength(); n > limit {
		c.SetConnectionClose()
		return nil, tooLarge(limit)
	}
	if !c.Request.IsBodyStream() {
		b := c.Request.Body()
		if len(b) > limit {
			return nil, tooLarge(limit)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(c.Request.BodyStream(), int64(limit)+1))
	if err != nil {
		return nil, httperr.BadRequest("请求体读取失败")
	}
	if len(b) > limit {
		c.SetConnectionClose()
		return nil, tooLarge(limit)
	}
	return b, nil
}

func tooLarge(limit int) error {
	return httperr.BadRequest(fmt.Sprintf("请求体过大，不能超过 %d 字节", limit))
}

// JSON decodes a JSON object into v. Unknown keys are ignored: the frontend
// sends extra ones (contract §11). Syntax errors, values of the wrong type,
// an empty body and trailing data are 400s naming the problem.
func JSON(body []byte, v any) error {
	switch trimmed := bytes.TrimSpace(body); {
	case len(trimmed) == 0:
		return httperr.BadRequest("请求体不能为空")
	case trimmed[0] != '{':
		return httperr.BadRequest("请求体应为 JSON 对象")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return httperr.BadRequest("请求体不是合法的 JSON：对象之后还有多余内容")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return httperr.BadRequest(fmt.Sprintf("请求体不是合法的 JSON：第 %d 字节附近有语法错误", syn.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return httperr.BadRequest("请求体不是合法的 JSON：内容不完整")
	case errors.As(err, &typ) && typ.Field == "":
		return httperr.BadRequest("请求体的类型不正确")
	case errors.As(err, &typ):
		return httperr.BadRequest(fmt.Sprintf("字段 %s 的类型不正确：不能是 %s", typ.Field, typ.Value))
	}
	return httperr.BadRequest("请求体不是合法的 JSON")
}

// ID parses a numeric path id: a non-negative decimal integer that fits in
// 64 bits. name is how the message refers to it.
func ID(s, name string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 || strings.HasPrefix(s, "+") {
		return 0, httperr.BadRequest(fmt.Sprintf("%s 必须是非负整数：%q", name, s))
	}
	return id, nil
}

// Int32 parses a required integer query parameter.
func Int32(c *app.RequestContext, key string) (int32, error) {
	raw, ok := c.GetQuery(key)
	if !ok || raw == "" {
		return 0, httperr.BadRequest(fmt.Sprintf("缺少参数 %s", key))
	}
	n, err := strconv.ParseInt(raw, 10, 32)
	if err != nil {
		return 0, httperr.BadRequest(fmt.Sprintf("参数 %s 必须是 32 位整数：%q", key, raw))
	}
	return int32(n), nil
}

// Int64 parses a required integer query parameter.
func Int64(c *app.RequestContext, key string) (int64, error) {
	raw, ok := c.GetQuery(key)
	if !ok || raw == "" {
		return 0, httperr.BadRequest(fmt.Sprintf("缺少参数 %s", key))
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, httperr.BadRequest(fmt.Sprintf("参数 %s 必须是整数：%q", key, raw))
	}
	return n, nil
}

// Enum parses a required query parameter that must be one of allowed.
func Enum(c *app.RequestContext, key string, allowed ...string) (string, error) {
	raw, ok := c.GetQuery(key)
	if !ok || raw == "" {
		return "", httperr.BadRequest(fmt.Sprintf("缺少参数 %s，可选值：%s", key, strings.Join(allowed, "、")))
	}
	for _, a := range allowed {
		if raw == a {
			return raw, nil
		}
	}
	return "", httperr.BadRequest(fmt.Sprintf("参数 %s 的值 %q 不受支持，可选值：%s", key, raw, strings.Join(allowed, "、")))
}
