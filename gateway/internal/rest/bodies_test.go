package rest

import (
	"errors"
	"testing"

	"example.com/bookstore/gateway/internal/decode"
	"example.com/bookstore/gateway/internal/httperr"
)

func decodeInto(t *testing.T, body string, v any) {
	t.Helper()
	if err := decode.JSON([]byte(body), v); err != nil {
		t.Fatal(err)
	}
}

func message(t *testing.T, err error) string {
	t.Helper()
	var e *httperr.Error
	if !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("got %v, want a 400", err)
	}
	return e.Body.(httperr.Coded).Message
}

func TestSettlementBody(t *testing.T) {
	// The frontend's body: the account's fields end up inside purchase.
	var b settlementBody
	decodeInto(t, `{"items":[{"amount":2,"id":1},{"amount":1,"id":3}],"purchase":{"name":"周志明","telephone":"18888888888",`+
		`"delivery":false,"pay":"wechat","address":{"province":"广东省","city":"珠海市","area":"香洲区"},`+
		`"location":"广东省 珠海市 香洲区 科技一路","id":1,"username":"icyfenix","avatar":"","email":"icyfenix@gmail.com"}}`, &b)
	if err := b.validate(); err != nil {
		t.Fatal(err)
	}
	req := b.request()
	if len(req.Items) != 2 || req.Items[0].ProductId != 1 || req.Items[0].Amount != 2 || req.Items[1].ProductId != 3 {
		t.Fatalf("items %+v", req.Items)
	}
	p := req.Purchase
	if p.Delivery || p.Pay != "wechat" || p.Name != "周志明" || p.Telephone != "18888888888" || p.Location != "广东省 珠海市 香洲区 科技一路" {
		t.Fatalf("purchase %+v", p)
	}

	// delivery defaults to true, as the original's Purchase does.
	b = settlementBody{}
	decodeInto(t, `{"items":[{"id":1,"amount":1}],"purchase":{"pay":"alipay"}}`, &b)
	if !b.request().Purchase.Delivery {
		t.Fatal("delivery must default to true")
	}

	for body, want := range map[string]string{
		`{}`:                              "结算单中缺少商品清单；结算单中缺少配送信息",
		`{"items":null,"purchase":{}}`:    "结算单中缺少商品清单",
		`{"items":[],"purchase":{}}`:      "结算单中缺少商品清单",
		`{"items":[{"id":1,"amount":1}]}`: "结算单中缺少配送信息",
		`{"items":[{"id":1,"amount":1}],"purchase":null}`: "结算单中缺少配送信息",
	} {
		b := settlementBody{}
		decodeInto(t, body, &b)
		if got := message(t, b.validate()); got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
}

func TestProductBody(t *testing.T) {
	var b productBody
	decodeInto(t, `{"id":1,"title":"t","price":129,"rate":9.6,"description":"<p>d</p>","cover":"c","detail":"d",`+
		`"specifications":[{"id":3,"item":"作者","value":"周志明","productId":1},{"item":"页数","value":"540","productId":null}]}`, &b)
	p, err := b.product()
	if err != nil {
		t.Fatal(err)
	}
	if p.Id != 1 || p.Title != "t" || p.Price == nil || *p.Price != 129 || p.Rate != float32(9.6) || p.Description != "<p>d</p>" {
		t.Fatalf("product %+v", p)
	}
	if len(p.Specifications) != 2 || p.Specifications[0].Id != 3 || p.Specifications[1].Id != 0 ||
		p.Specifications[1].ProductId != 0 || p.Specifications[1].Value != "540" {
		t.Fatalf("specifications %+v", p.Specifications)
	}

	// An absent price stays absent: the warehouse says "商品应当有明确的价格".
	b = productBody{}
	decodeInto(t, `{"title":"t","price":null}`, &b)
	if p, err := b.product(); err != nil || p.Price != nil {
		t.Fatalf("absent price: %+v %v", p, err)
	}

	b = productBody{}
	decodeInto(t, `{"rate":1e300}`, &b)
	if _, err := b.product(); message(t, err) != "字段 rate 超出范围" {
		t.Fatal(err)
	}
}

func TestAccountBody(t *testing.T) {
	var b accountBody
	// The frontend's update: its cached account with a gravatar avatar.
	decodeInto(t, `{"id":2,"username":"alice","name":"Alice","avatar":"https://www.gravatar.com/avatar/x","telephone":null,"email":"a@b.cn","location":"","extra":1}`, &b)
	in := b.input()
	if in.GetId() != 2 || in.GetUsername() != "alice" || in.GetAvatar() != "https://www.gravatar.com/avatar/x" ||
		in.Telephone != nil || in.Password != nil || in.Location == nil || *in.Location != "" {
		t.Fatalf("input %+v", in)
	}
}
