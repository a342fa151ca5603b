package domain

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestNormalizeItems(t *testing.T) {
	tests := []struct {
		name    string
		items   []Item
		want    []Item
		wantMsg string
	}{
		{"one", []Item{{1, 2}}, []Item{{1, 2}}, ""},
		{"merged and sorted", []Item{{3, 1}, {1, 2}, {3, 4}}, []Item{{1, 2}, {3, 5}}, ""},
		{"empty", nil, nil, MsgItemsRequired},
		{"zero amount", []Item{{1, 0}}, nil, MsgItemAmountMin},
		{"negative amount", []Item{{1, 2}, {2, -1}}, nil, MsgItemAmountMin},
		{"sum overflows", []Item{{1, math.MaxInt32}, {1, 1}}, nil, MsgItemAmountMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeItems(tt.items)
			if tt.wantMsg != "" {
				if !errors.Is(err, ErrInvalid) || err.Error() != tt.wantMsg {
					t.Fatalf("NormalizeItems = %v, %v; want %q", got, err, tt.wantMsg)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("NormalizeItems = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestNewReservation(t *testing.T) {
	prices := map[int64]Cents{1: 12900, 2: 6900}
	r, err := NewReservation("pay-1", []Item{{1, 2}, {2, 1}}, prices)
	if err != nil {
		t.Fatal(err)
	}
	want := []PricedItem{{1, 2, 12900}, {2, 1, 6900}}
	if r.State() != Frozen || r.PayID() != "pay-1" || !reflect.DeepEqual(r.Items(), want) {
		t.Errorf("reservation = %s %s %v", r.PayID(), r.State(), r.Items())
	}

	if _, err := NewReservation("pay-1", []Item{{3, 1}}, prices); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown product: %v, want ErrNotFound", err)
	}
	if _, err := NewReservation("", []Item{{1, 1}}, prices); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty pay id: %v, want ErrInvalid", err)
	}
	if _, err := ThawedTombstone(""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty pay id tombstone: %v, want ErrInvalid", err)
	}
}

func TestReservationStateMachine(t *testing.T) {
	items := []PricedItem{{ProductID: 1, Amount: 2, Price: 100}, {ProductID: 4, Amount: 3, Price: 200}}
	thawChanges := []StockChange{{1, 2, -2}, {4, 3, -3}}
	decreaseChanges := []StockChange{{1, 0, -2}, {4, 0, -3}}

	tests := []struct {
		from        ReservationState
		op          string
		wantState   ReservationState
		wantChanges []StockChange
		wantErr     error
	}{
		{Frozen, "thaw", Thawed, thawChanges, nil},
		{Frozen, "decrease", Decreased, decreaseChanges, nil},
		{Frozen, "refreeze", Frozen, nil, nil},
		{Thawed, "thaw", Thawed, nil, nil},
		{Thawed, "decrease", Thawed, nil, ErrWrongState},
		{Thawed, "refreeze", Thawed, nil, ErrWrongState},
		{Decreased, "decrease", Decreased, nil, nil},
		{Decreased, "thaw", Decreased, nil, ErrWrongState},
		{Decreased, "refreeze", Decreased, nil, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+" "+tt.op, func(t *testing.T) {
			r := RestoreReservation("p", tt.from, items)
			var (
				changes []StockChange
				err     error
			)
			switch tt.op {
			case "thaw":
				changes, err = r.Thaw()
			case "decrease":
				changes, err = r.Decrease()
			case "refreeze":
				var got []PricedItem
				got, err = r.Refreeze()
				if err == nil && !reflect.DeepEqual(got, items) {
					t.Errorf("refreeze items = %v, want %v", got, items)
				}
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if r.State() != tt.wantState {
				t.Errorf("state = %s, want %s", r.State(), tt.wantState)
			}
			if !reflect.DeepEqual(changes, tt.wantChanges) {
				t.Errorf("changes = %v, want %v", changes, tt.wantChanges)
			}
		})
	}
}

func TestTombstoneRefusesLateFreeze(t *testing.T) {
	r, err := ThawedTombstone("late")
	if err != nil {
		t.Fatal(err)
	}
	if r.State() != Thawed || len(r.Items()) != 0 {
		t.Fatalf("tombstone = %s %v", r.State(), r.Items())
	}
	if _, err := r.Refreeze(); !errors.Is(err, ErrWrongState) || err.Error() != MsgRefreezeThawed {
		t.Errorf("Refreeze = %v", err)
	}
	if ch, err := r.Thaw(); err != nil || ch != nil {
		t.Errorf("Thaw of a tombstone = %v, %v; want a no-op", ch, err)
	}
}

func TestCents(t *testing.T) {
	tests := []struct {
		in   float64
		want Cents
		str  string
	}{{29.99, 2999, "29.99"}, {129, 12900, "129.00"}, {0.6, 60, "0.60"}, {0, 0, "0.00"}}
	for _, tt := range tests {
		if got := CentsOf(tt.in); got != tt.want || got.String() != tt.str || got.Float64() != tt.in {
			t.Errorf("CentsOf(%v) = %d %q %v", tt.in, got, got.String(), got.Float64())
		}
	}
}
