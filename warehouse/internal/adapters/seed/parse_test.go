package seed

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Insert
	}{
		{
			name: "quotes, escapes and numbers",
			src:  "INSERT INTO t VALUES (1, 'it''s', -2.5, 'a\\nb', NULL);\n",
			want: []Insert{{Table: "t", Line: 1, Rows: [][]Value{{
				{Text: "1"}, {Text: "it's", Quoted: true}, {Text: "-2.5"}, {Text: `a\nb`, Quoted: true}, {Null: true},
			}}}},
		},
		{
			name: "a missing semicolon between statements on consecutive lines",
			src:  "INSERT INTO s VALUES (26, 'x',3)\nINSERT INTO s VALUES (27, 'y',4);\n",
			want: []Insert{
				{Table: "s", Line: 1, Rows: [][]Value{{{Text: "26"}, {Text: "x", Quoted: true}, {Text: "3"}}}},
				{Table: "s", Line: 2, Rows: [][]Value{{{Text: "27"}, {Text: "y", Quoted: true}, {Text: "4"}}}},
			},
		},
		{
			name: "statement terminators and newlines inside a string",
			src:  "-- comment\n\ninsert into t values (1, 'a);\nINSERT INTO t VALUES (2, ''b'');'),(2,'c');",
			want: []Insert{{Table: "t", Line: 3, Rows: [][]Value{
				{{Text: "1"}, {Text: "a);\nINSERT INTO t VALUES (2, 'b');", Quoted: true}},
				{{Text: "2"}, {Text: "c", Quoted: true}},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"INSERT INTO t VALUES (1, 'open);", "line 1: string opened on line 1 is not closed"},
		{"INSERT INTO t VALUES (1, 2", "line 1: unterminated VALUES list"},
		{"DELETE FROM t;", "want INSERT"},
		{"INSERT INTO t VALUES (1 2);", "want ',' or ')'"},
		{"INSERT INTO t VALUES (1, x);", `unexpected "x"`},
		{"\n\nINSERT INTO t VALUES (1.2.3);", "line 3: bad number"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.src, err, tt.want)
		}
	}
}

func TestSeedData(t *testing.T) {
	inserts, err := Data()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int{}
	for _, st := range inserts {
		rows[st.Table] += len(st.Rows)
	}
	want := map[string]int{"product": 8, "specification": 70, "advertisement": 3, "stockpile": 8}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows per table = %v, want %v", rows, want)
	}
	// Row 26 lacks its semicolon; row 27 must still be a statement of its own.
	var ids []string
	for _, st := range inserts {
		if st.Table == "specification" {
			ids = append(ids, st.Rows[0][0].Text)
		}
	}
	if got := strings.Join(ids[24:28], ","); got != "25,26,27,28" {
		t.Errorf("specification ids around row 26 = %s", got)
	}
	// Product 2 keeps the two characters backslash-n (contract §6.4).
	desc, err := inserts[1].Rows[0][4].String()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc, `</p>\n<p>`) || strings.Contains(desc, "\n") {
		t.Errorf("product 2's description lost its literal \\n")
	}
}
