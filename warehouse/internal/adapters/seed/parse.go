package seed

import (
	"fmt"
	"strconv"
	"strings"
)

// Insert is one INSERT INTO table VALUES (...), (...) statement.
type Insert struct {
	Table string
	Rows  [][]Value
	Line  int // where the statement starts, for error messages
}

// Value is one literal of a VALUES list.
type Value struct {
	Text   string // the string's content, or the number as written
	Quoted bool   // a string literal
	Null   bool
}

// String returns a string literal's content.
func (v Value) String() (string, error) {
	if !v.Quoted {
		return "", fmt.Errorf("want a string, got %s", v.describe())
	}
	return v.Text, nil
}

// Int returns an integer literal.
func (v Value) Int() (int64, error) {
	if v.Quoted || v.Null {
		return 0, fmt.Errorf("want an integer, got %s", v.describe())
	}
	return strconv.ParseInt(v.Text, 10, 64)
}

// Float returns a numeric literal.
func (v Value) Float() (float64, error) {
	if v.Quoted || v.Null {
		return 0, fmt.Errorf("want a number, got %s", v.describe())
	}
	return strconv.ParseFloat(v.Text, 64)
}

func (v Value) describe() string {
	switch {
	case v.Null:
		return "NULL"
	case v.Quoted:
		return strconv.Quote(v.Text)
	}
	return v.Text
}

// Parse reads a script of INSERT statements as HSQLDB does:
//   - strings are single-quoted, a doubled quote stands for one, and nothing else
//     is an escape: a backslash stays a backslash (so the seed's literal
//     "\n" stays two characters, contract §6.4);
//   - a statement ends after its closing parenthesis; the ";" after it is
//     optional, because the seed omits it after specification row 26 and
//     the original's script splitter still ran both statements;
//   - "--" starts a comment up to the end of the line.
//
// It reads tokens rather than splitting lines or at ";", since strings may
// hold both.
func Parse(src string) ([]Insert, error) {
	p := &parser{src: src, line: 1}
	var out []Insert
	for {
		p.skipSpace()
		if p.eof() {
			return out, nil
		}
		if p.peek() == ';' { // an empty statement
			p.pos++
			continue
		}
		st, err := p.insert()
		if err != nil {
			return nil, fmt.Errorf("seed: line %d: %w", p.line, err)
		}
		out = append(out, st)
	}
}

type parser struct {
	src  string
	pos  int
	line int
}

func (p *parser) eof() bool  { return p.pos >= len(p.src) }
func (p *parser) peek() byte { return p.src[p.pos] }

func (p *parser) skipSpace() {
	for !p.eof() {
		switch c := p.peek(); {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case strings.HasPrefix(p.src[p.pos:], "--"):
			for !p.eof() && p.peek() != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *parser) word() string {
	p.skipSpace()
	start := p.pos
	for !p.eof() && isWordByte(p.peek()) {
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *parser) keyword(kw string) error {
	if w := p.word(); !strings.EqualFold(w, kw) {
		return fmt.Errorf("want %s, got %q", kw, w)
	}
	return nil
}

func (p *parser) punct(c byte) error {
	p.skipSpace()
	if p.eof() {
		return fmt.Errorf("want %q, got end of input", c)
	}
	if p.peek() != c {
		return fmt.Errorf("want %q, got %q", c, p.peek())
	}
	p.pos++
	return nil
}

func (p *parser) insert() (Insert, error) {
	st := Insert{Line: p.line}
	if err := p.keyword("INSERT"); err != nil {
		return st, err
	}
	if err := p.keyword("INTO"); err != nil {
		return st, err
	}
	if st.Table = p.word(); st.Table == "" {
		return st, fmt.Errorf("want a table name")
	}
	if err := p.keyword("VALUES"); err != nil {
		return st, err
	}
	for {
		row, err := p.tuple()
		if err != nil {
			return st, err
		}
		st.Rows = append(st.Rows, row)
		p.skipSpace()
		if p.eof() || p.peek() != ',' {
			break
		}
		p.pos++
	}
	p.skipSpace()
	if !p.eof() && p.peek() == ';' {
		p.pos++
	}
	return st, nil
}

func (p *parser) tuple() ([]Value, error) {
	if err := p.punct('('); err != nil {
		return nil, err
	}
	var row []Value
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		row = append(row, v)
		p.skipSpace()
		if p.eof() {
			return nil, fmt.Errorf("unterminated VALUES list")
		}
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return row, nil
		default:
			return nil, fmt.Errorf("want ',' or ')', got %q", p.peek())
		}
	}
}

func (p *parser) value() (Value, error) {
	p.skipSpace()
	if p.eof() {
		return Value{}, fmt.Errorf("want a value, got end of input")
	}
	switch c := p.peek(); {
	case c == '\'':
		return p.str()
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		start := p.pos
		p.pos++
		for !p.eof() && (isWordByte(p.peek()) || p.peek() == '.' ||
			(p.peek() == '-' || p.peek() == '+') && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E')) {
			p.pos++
		}
		text := p.src[start:p.pos]
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return Value{}, fmt.Errorf("bad number %q", text)
		}
		return Value{Text: text}, nil
	default:
		if w := p.word(); strings.EqualFold(w, "NULL") {
			return Value{Null: true}, nil
		} else if w != "" {
			return Value{}, fmt.Errorf("unexpected %q", w)
		}
		return Value{}, fmt.Errorf("unexpected %q", c)
	}
}

func (p *parser) str() (Value, error) {
	startLine := p.line
	p.pos++ // opening quote
	var b strings.Builder
	for {
		i := strings.IndexByte(p.src[p.pos:], '\'')
		if i < 0 {
			return Value{}, fmt.Errorf("string opened on line %d is not closed", startLine)
		}
		chunk := p.src[p.pos : p.pos+i]
		p.line += strings.Count(chunk, "\n")
		b.WriteString(chunk)
		p.pos += i + 1
		if !p.eof() && p.peek() == '\'' { // '' is one quote
			b.WriteByte('\'')
			p.pos++
			continue
		}
		return Value{Text: b.String(), Quoted: true}, nil
	}
}
