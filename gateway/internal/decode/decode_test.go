package decode

import (
	"errors"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"

	"example.com/bookstore/gateway/internal/httperr"
)

// badRequest asserts err is a 400 CodedMessage whose message contains want.
func badRequest(t *testing.T, err error, want string) {
	t.Helper()
	var e *httperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want a 400", err)
	}
	body, ok := e.Body.(httperr.Coded)
	if e.Status != 400 || !ok || body.Code != 1 || !strings.Contains(body.Message, want) {
		t.Fatalf("got %d %+v, want 400 containing %q", e.Status, e.Body, want)
	}
}

type item struct {
	ID     *int64 `json:"id"`
	Amount *int32 `json:"amount"`
}

type order struct {
	Items    []item  `json:"items"`
	Note     *string `json:"note"`
	Delivery *bool   `json:"delivery"`
}

func TestJSONIgnoresUnknownKeys(t *testing.T) {
	var o order
	body := `{"items":[{"id":1,"amount":2,"price":129}],"address":{"province":"广东省"},"avatar":"","note":null}`
	if err := JSON([]byte(body), &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Items) != 1 || *o.Items[0].ID != 1 || *o.Items[0].Amount != 2 || o.Note != nil || o.Delivery != nil {
		t.Fatalf("decoded %+v", o)
	}
}

func TestJSONErrors(t *testing.T) {
	for body, want := range map[string]string{
		``:                            "请求体不能为空",
		"  \n":                        "请求体不能为空",
		`null`:                        "请求体应为 JSON 对象",
		`[{"id":1}]`:                  "请求体应为 JSON 对象",
		`"text"`:                      "请求体应为 JSON 对象",
		`MUST_BE_PRESENT`:             "请求体应为 JSON 对象",
		`{"items":[`:                  "内容不完整",
		`{"items" [1]}`:               "语法错误",
		`{"note":"a"}{"note":"b"}`:    "多余内容",
		`{"note":1}`:                  "字段 note 的类型不正确：不能是 number",
		`{"items":{}}`:                "字段 items 的类型不正确：不能是 object",
		`{"items":[{"amount":"2"}]}`:  "字段 items.amount 的类型不正确：不能是 string",
		`{"items":[{"amount":1.5}]}`:  "字段 items.amount 的类型不正确",
		`{"items":[{"amount":1e10}]}`: "字段 items.amount 的类型不正确",
		`{"items":[{"id":-1e30}]}`:    "字段 items.id 的类型不正确",
		`{"delivery":"yes"}`:          "字段 delivery 的类型不正确：不能是 string",
	} {
		var o order
		badRequest(t, JSON([]byte(body), &o), want)
	}
}

func TestBody(t *testing.T) {
	const limit = 16
	c := app.NewContext(0)
	c.Request.SetBody([]byte(`{"note":"ok"}`))
	if b, err := Body(c, limit); err != nil || string(b) != `{"note":"ok"}` {
		t.Fatalf("small body: %q %v", b, err)
	}

	c = app.NewContext(0)
	c.Request.SetBody([]byte(strings.Repeat("x", limit+1)))
	_, err := Body(c, limit)
	badRequest(t, err, "请求体过大")

	// A streamed body of unknown length is cut off at the limit.
	c = app.NewContext(0)
	c.Request.SetBodyStream(strings.NewReader(strings.Repeat("x", 10*limit)), -1)
	_, err = Body(c, limit)
	badRequest(t, err, "请求体过大")

	c = app.NewContext(0)
	c.Request.SetBodyStream(strings.NewReader("exactly sixteen!"), -1)
	if b, err := Body(c, limit); err != nil || len(b) != limit {
		t.Fatalf("body at the limit: %q %v", b, err)
	}

	// A declared length over the limit is refused before reading.
	c = app.NewContext(0)
	c.Request.Header.SetContentLength(1 << 30)
	_, err = Body(c, limit)
	badRequest(t, err, "请求体过大")
}

func TestID(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "1": 1, "10086": 10086, "9223372036854775807": 1<<63 - 1} {
		if got, err := ID(s, "商品ID"); err != nil || got != want {
			t.Errorf("ID(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "abc", "1.0", "1e3", "-1", "+1", " 1", "0x10", "9223372036854775808", "99999999999999999999"} {
		_, err := ID(s, "商品ID")
		badRequest(t, err, "商品ID 必须是非负整数")
	}
}

func ctxWithQuery(query string) *app.RequestContext {
	c := app.NewContext(0)
	c.Request.SetRequestURI("/x?" + query)
	return c
}

func TestQueryInts(t *testing.T) {
	if n, err := Int32(ctxWithQuery("amount=42"), "amount"); err != nil || n != 42 {
		t.Fatalf("amount=42: %d %v", n, err)
	}
	if n, err := Int32(ctxWithQuery("amount=-3"), "amount"); err != nil || n != -3 {
		t.Fatalf("amount=-3: %d %v", n, err)
	}
	for _, q := range []string{"", "amount=", "other=1"} {
		_, err := Int32(ctxWithQuery(q), "amount")
		badRequest(t, err, "缺少参数 amount")
	}
	for _, q := range []string{"amount=abc", "amount=1.5", "amount=2147483648", "amount=1e3"} {
		_, err := Int32(ctxWithQuery(q), "amount")
		badRequest(t, err, "参数 amount 必须是 32 位整数")
	}
	if n, err := Int64(ctxWithQuery("accountId=1"), "accountId"); err != nil || n != 1 {
		t.Fatalf("accountId=1: %d %v", n, err)
	}
	_, err := Int64(ctxWithQuery("accountId=x"), "accountId")
	badRequest(t, err, "参数 accountId 必须是整数")
}

func TestEnum(t *testing.T) {
	for _, v := range []string{"PAYED", "CANCEL"} {
		if got, err := Enum(ctxWithQuery("state="+v), "state", "PAYED", "CANCEL"); err != nil || got != v {
			t.Fatalf("state=%s: %q %v", v, got, err)
		}
	}
	_, err := Enum(ctxWithQuery(""), "state", "PAYED", "CANCEL")
	badRequest(t, err, "缺少参数 state")
	for _, v := range []string{"FOO", "payed", "NOT_SUPPORT", "TIMEOUT"} {
		_, err := Enum(ctxWithQuery("state="+v), "state", "PAYED", "CANCEL")
		badRequest(t, err, "不受支持")
	}
}
