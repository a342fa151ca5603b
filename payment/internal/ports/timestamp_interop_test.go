package ports

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"example.com/bookstore/idl/kitex_gen/payment"
	"example.com/bookstore/payment/internal/domain"
)

// The Kitex-generated Payment is marshalled by prutal, not by the official
// protobuf runtime. These tests pin that both produce and accept the same
// bytes for it, google.protobuf.Timestamp included, so that any protobuf
// client (grpc-go, protoc-gen-go, other languages) reads create_time to the
// nanosecond. The official side is a dynamic message built from the same
// schema as idl/payment.proto.

// paymentDescriptor is payment.proto's Payment (and PayState) as a
// descriptor, with the real google/protobuf/timestamp.proto as its import.
func paymentDescriptor(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{
			Name:     proto.String(name),
			JsonName: proto.String(name),
			Number:   proto.Int32(num),
			Label:    descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			Type:     typ.Enum(),
		}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("interop/payment.proto"),
		Package:    proto.String("payment"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/timestamp.proto"},
		EnumType: []*descriptorpb.EnumDescriptorProto{{
			Name: proto.String("PayState"),
			Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: proto.String("WAITING"), Number: proto.Int32(0)},
				{Name: proto.String("CANCEL"), Number: proto.Int32(1)},
				{Name: proto.String("PAYED"), Number: proto.Int32(2)},
				{Name: proto.String("TIMEOUT"), Number: proto.Int32(3)},
				{Name: proto.String("NOT_SUPPORT"), Number: proto.Int32(4)},
			},
		}},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Payment"),
			Field: []*descriptorpb.FieldDescriptorProto{
				field("id", 1, descriptorpb.FieldDescriptorProto_TYPE_INT64, ""),
				field("create_time", 2, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".google.protobuf.Timestamp"),
				field("pay_id", 3, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
				field("total_price", 4, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, ""),
				field("expires", 5, descriptorpb.FieldDescriptorProto_TYPE_INT64, ""),
				field("payment_link", 6, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
				field("pay_state", 7, descriptorpb.FieldDescriptorProto_TYPE_ENUM, ".payment.PayState"),
			},
		}},
	}
	fd, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().ByName("Payment")
}

// interopTimes are ordinary and edge instants: the epoch (an empty
// Timestamp), negative seconds with positive nanos (protobuf's
// normalisation), the largest nanos, and the ends of the valid range.
var interopTimes = map[string]time.Time{
	"ordinary":           time.Date(2026, 11, 22, 1, 2, 3, 456789123, time.UTC),
	"epoch":              time.Unix(0, 0),
	"one ns after epoch": time.Unix(0, 1),
	"negative seconds":   time.Unix(-1, 500_000_000),
	"before epoch":       time.Date(1969, 7, 20, 20, 17, 40, 999_999_999, time.UTC),
	"max nanos":          time.Unix(1_700_000_000, 999_999_999),
	"min valid":          time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
	"max valid":          time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	"non-UTC zone":       time.Date(2026, 1, 1, 8, 0, 0, 1, time.FixedZone("CST", 8*3600)),
}

func kitexPayment(ts *timestamppb.Timestamp) *payment.Payment {
	return &payment.Payment{
		Id:          42,
		CreateTime:  ts,
		PayId:       "0904ff25-819b-42d1-9651-dffd79a7893e",
		TotalPrice:  270,
		Expires:     120000,
		PaymentLink: "/pay/modify/0904ff25-819b-42d1-9651-dffd79a7893e?state=PAYED&accountId=1",
		PayState:    payment.PayState_PAYED,
	}
}

func officialPayment(md protoreflect.MessageDescriptor, ts *timestamppb.Timestamp) *dynamicpb.Message {
	m := dynamicpb.NewMessage(md)
	f := md.Fields()
	m.Set(f.ByName("id"), protoreflect.ValueOfInt64(42))
	if ts != nil {
		m.Set(f.ByName("create_time"), protoreflect.ValueOfMessage(ts.ProtoReflect()))
	}
	m.Set(f.ByName("pay_id"), protoreflect.ValueOfString("0904ff25-819b-42d1-9651-dffd79a7893e"))
	m.Set(f.ByName("total_price"), protoreflect.ValueOfFloat64(270))
	m.Set(f.ByName("expires"), protoreflect.ValueOfInt64(120000))
	m.Set(f.ByName("payment_link"), protoreflect.ValueOfString("/pay/modify/0904ff25-819b-42d1-9651-dffd79a7893e?state=PAYED&accountId=1"))
	m.Set(f.ByName("pay_state"), protoreflect.ValueOfEnum(2))
	return m
}

func TestCreateTimeBytesMatchOfficialProtobuf(t *testing.T) {
	md := paymentDescriptor(t)
	for name, tm := range interopTimes {
		t.Run(name, func(t *testing.T) {
			ts := timestamppb.New(tm)
			if err := ts.CheckValid(); err != nil {
				t.Fatalf("test instant is not a valid Timestamp: %v", err)
			}

			kitexBytes, err := kitexPayment(ts).Marshal(nil)
			if err != nil {
				t.Fatal(err)
			}
			officialBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(officialPayment(md, ts))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(kitexBytes, officialBytes) {
				t.Fatalf("bytes differ\nprutal:   %x\nofficial: %x", kitexBytes, officialBytes)
			}

			// The wire itself: field 2 holds seconds (field 1) and nanos
			// (field 2) of the instant, whatever either library thinks.
			secs, nanos, present := wireCreateTime(t, kitexBytes)
			if !present || secs != tm.Unix() || nanos != int32(tm.Nanosecond()) {
				t.Errorf("wire create_time = (%d, %d, present %v), want (%d, %d)", secs, nanos, present, tm.Unix(), tm.Nanosecond())
			}

			// prutal reads what the official library wrote ...
			var fromOfficial payment.Payment
			if err := fromOfficial.Unmarshal(officialBytes); err != nil {
				t.Fatal(err)
			}
			if got := fromOfficial.GetCreateTime().AsTime(); !got.Equal(tm) || got.Nanosecond() != tm.Nanosecond() {
				t.Errorf("prutal decoded %v, want %v", got, tm)
			}
			if fromOfficial.PayState != payment.PayState_PAYED || fromOfficial.TotalPrice != 270 || fromOfficial.Expires != 120000 {
				t.Errorf("prutal decoded other fields wrong: %+v", &fromOfficial)
			}

			// ... and the official library reads what prutal wrote.
			fromKitex := dynamicpb.NewMessage(md)
			if err := proto.Unmarshal(kitexBytes, fromKitex); err != nil {
				t.Fatal(err)
			}
			var back timestamppb.Timestamp
			raw, err := proto.Marshal(fromKitex.Get(md.Fields().ByName("create_time")).Message().Interface())
			if err != nil {
				t.Fatal(err)
			}
			if err := proto.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			if got := back.AsTime(); !got.Equal(tm) || back.GetNanos() != int32(tm.Nanosecond()) {
				t.Errorf("official decoded %v, want %v", got, tm)
			}
		})
	}
}

func TestAbsentCreateTimeStaysAbsent(t *testing.T) {
	md := paymentDescriptor(t)
	kitexBytes, err := kitexPayment(nil).Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	officialBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(officialPayment(md, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kitexBytes, officialBytes) {
		t.Fatalf("bytes differ\nprutal:   %x\nofficial: %x", kitexBytes, officialBytes)
	}
	if _, _, present := wireCreateTime(t, kitexBytes); present {
		t.Error("absent create_time was written")
	}
	var p payment.Payment
	if err := p.Unmarshal(officialBytes); err != nil || p.CreateTime != nil {
		t.Errorf("decoded create_time = %v, %v; want nil", p.CreateTime, err)
	}
}

// TestToProtoKeepsTheInstant covers our own conversion: the payment's
// create time reaches the wire as the same instant, never as a string.
func TestToProtoKeepsTheInstant(t *testing.T) {
	created := time.Date(2026, 11, 22, 1, 2, 3, 456_789_123, time.UTC)
	s, err := domain.NewSettlement([]domain.Item{{ProductID: 1, Amount: 2}},
		&domain.Purchase{Pay: "wechat", Name: "n", Telephone: "1", Location: "x"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := domain.NewPayment("pay-1", 1, s, []domain.PricedItem{{Item: domain.Item{ProductID: 1, Amount: 2}, UnitPrice: 12900}}, created, 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	msg := toProto(p)
	b, err := msg.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	secs, nanos, _ := wireCreateTime(t, b)
	want := created.Truncate(time.Millisecond) // the precision the payment keeps
	if got := time.Unix(secs, int64(nanos)).UTC(); !got.Equal(want) {
		t.Errorf("wire instant %v, want %v", got, want)
	}
	if msg.TotalPrice != 270 || msg.Expires != 120000 || msg.PayState != payment.PayState_WAITING ||
		msg.PaymentLink != "/pay/modify/pay-1?state=PAYED&accountId=1" {
		t.Errorf("converted payment = %+v", msg)
	}
}

// wireCreateTime decodes field 2 of a Payment by hand.
func wireCreateTime(t *testing.T, b []byte) (secs int64, nanos int32, present bool) {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal(protowire.ParseError(n))
		}
		b = b[n:]
		if num == 2 && typ == protowire.BytesType {
			inner, n := protowire.ConsumeBytes(b)
			if n < 0 {
				t.Fatal(protowire.ParseError(n))
			}
			b = b[n:]
			present = true
			for len(inner) > 0 {
				inum, ityp, m := protowire.ConsumeTag(inner)
				if m < 0 || ityp != protowire.VarintType {
					t.Fatalf("bad Timestamp field %d type %d", inum, ityp)
				}
				inner = inner[m:]
				v, m := protowire.ConsumeVarint(inner)
				if m < 0 {
					t.Fatal(protowire.ParseError(m))
				}
				inner = inner[m:]
				switch inum {
				case 1:
					secs = int64(v)
				case 2:
					nanos = int32(v)
				default:
					t.Fatalf("unexpected Timestamp field %d", inum)
				}
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			t.Fatal(fmt.Errorf("field %d: %w", num, protowire.ParseError(n)))
		}
		b = b[n:]
	}
	return secs, nanos, present
}
