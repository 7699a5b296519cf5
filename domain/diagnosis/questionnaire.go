package diagnosis

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Value is the value of a choice, and of an answer: a JSON string, integer or boolean, kept in its
// canonical JSON text ("yes" is `"yes"`, 3 is `3`), so that an answer matches its choice whether
// the questionnaire and the client wrote 3 or 3.0.
type Value string

// ParseValue reads a JSON scalar into its canonical form.
func ParseValue(raw json.RawMessage) (Value, bool) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	switch v := v.(type) {
	case string:
		b, _ := json.Marshal(v)
		return Value(b), true
	case bool:
		return Value(strconv.FormatBool(v)), true
	case json.Number:
		f, err := v.Float64()
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return "", false
		}
		return Value(strconv.FormatInt(int64(f), 10)), true
	}
	return "", false
}

// MarshalJSON writes the value as the JSON it stands for. A Value that is not JSON text (one
// converted from a plain string rather than read by ParseValue) is written as that string.
func (v Value) MarshalJSON() ([]byte, error) {
	switch {
	case v == "":
		return []byte("null"), nil
	case !json.Valid([]byte(v)):
		return json.Marshal(string(v))
	}
	return []byte(v), nil
}

// UnmarshalJSON reads a JSON scalar (see ParseValue).
func (v *Value) UnmarshalJSON(b []byte) error {
	parsed, ok := ParseValue(b)
	if !ok {
		return fmt.Errorf("diagnosis: a value is a string, an integer or a boolean, not %s", b)
	}
	*v = parsed
	return nil
}

// Choice is one answer a question offers, with the score it earns.
type Choice struct {
	Value Value  `json:"value"`
	Label string `json:"label"`
	Score int    `json:"score"`
}

// Question is one question of the questionnaire.
type Question struct {
	ID       string   `json:"id"`
	Category string   `json:"category"`
	Text     string   `json:"text"`
	Choices  []Choice `json:"choices"`
}

// Questionnaire is the leak-risk questionnaire, reference data published by staff. A higher score
// means a safer practice.
type Questionnaire struct {
	Questions []Question `json:"questions"`
}

// Limits of a questionnaire.
const (
	MaxQuestions   = 200
	MaxChoices     = 20
	MaxScore       = 1000
	maxIDLength    = 64
	maxCategoryLen = 100
	maxTextLen     = 1000
	maxLabelLen    = 200
)

// questionID: question IDs become JSON paths (answers.<id>), so they are plain words.
var questionID = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate reports every broken rule at once as a *ValidationError (ErrInvalidQuestionnaire): at
// least one question; IDs unique plain words; a category, a text and at least two choices per
// question; choice values unique within their question, labels given, scores 0 to MaxScore.
// problems are errors found while reading the request; they are reported first, and the fields
// they name are not checked again.
func (q Questionnaire) Validate(problems ...FieldError) error {
	f := fieldErrors{kind: ErrInvalidQuestionnaire, list: append([]FieldError(nil), problems...)}
	switch {
	case len(q.Questions) == 0:
		f.add("questions", CodeRequired, "at least one question is required")
	case len(q.Questions) > MaxQuestions:
		f.add("questions", CodeOutOfRange, "at most %d questions", MaxQuestions)
	}
	seen := map[string]int{}
	for i, qu := range q.Questions {
		at := fmt.Sprintf("questions[%d]", i)
		switch {
		case qu.ID == "":
			f.add(at+".id", CodeRequired, "id is required")
		case len(qu.ID) > maxIDLength || !questionID.MatchString(qu.ID):
			f.add(at+".id", CodeInvalidFormat, "id is 1 to %d letters, digits, '_' and '-'", maxIDLength)
		default:
			if j, dup := seen[qu.ID]; dup {
				f.add(at+".id", CodeDuplicate, "id %q is also questions[%d]", qu.ID, j)
			}
			seen[qu.ID] = i
		}
		text(&f, at+".category", qu.Category, maxCategoryLen)
		text(&f, at+".text", qu.Text, maxTextLen)
		switch {
		case len(qu.Choices) < 2:
			f.add(at+".choices", CodeRequired, "at least two choices are required")
		case len(qu.Choices) > MaxChoices:
			f.add(at+".choices", CodeOutOfRange, "at most %d choices", MaxChoices)
		}
		values := map[Value]int{}
		for k, c := range qu.Choices {
			cat := fmt.Sprintf("%s.choices[%d]", at, k)
			switch {
			case f.has(cat + ".value"):
			case c.Value == "":
				f.add(cat+".value", CodeRequired, "value is required (a string, an integer or a boolean)")
			default:
				if j, dup := values[c.Value]; dup {
					f.add(cat+".value", CodeDuplicate, "value %s is also choices[%d]", c.Value, j)
				} else {
					values[c.Value] = k
				}
			}
			text(&f, cat+".label", c.Label, maxLabelLen)
			if !f.has(cat+".score") && (c.Score < 0 || c.Score > MaxScore) {
				f.add(cat+".score", CodeOutOfRange, "score is 0 to %d", MaxScore)
			}
		}
	}
	return f.err()
}

// text checks a required single-line text.
func text(f *fieldErrors, field, s string, max int) {
	switch {
	case strings.TrimSpace(s) == "":
		f.add(field, CodeRequired, "%s is required", field)
	case utf8.RuneCountInString(s) > max:
		f.add(field, CodeTooLong, "at most %d characters", max)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		f.add(field, CodeControlCharacter, "control characters are not allowed")
	}
}

// RiskLevel summarises a score.
type RiskLevel string

// The risk levels: high below 50% of the maximum score, medium below 80%, low otherwise.
const (
	RiskHigh   RiskLevel = "high"
	RiskMedium RiskLevel = "medium"
	RiskLow    RiskLevel = "low"
)

// RiskOf returns the level of score out of max.
func RiskOf(score, max int) RiskLevel {
	switch {
	case 2*score < max:
		return RiskHigh
	case 5*score < 4*max:
		return RiskMedium
	}
	return RiskLow
}

// CategoryScore is the score of one category of questions.
type CategoryScore struct {
	Category string `json:"category"`
	Score    int    `json:"score"`
	MaxScore int    `json:"maxScore"`
}

// Result is a scored set of answers.
type Result struct {
	Score      int             `json:"score"`
	MaxScore   int             `json:"maxScore"`
	RiskLevel  RiskLevel       `json:"riskLevel"`
	Categories []CategoryScore `json:"categories"`
}

// Score scores answers (question ID → value). Every question must be answered with one of its
// choices, and nothing else answered: each broken rule is a field error `answers.<id>` of a
// *ValidationError (ErrInvalidDiagnosis). maxScore is the sum of each question's best choice;
// categories come in the order the questionnaire first names them.
func (q Questionnaire) Score(answers map[string]Value) (Result, []FieldError) {
	f := fieldErrors{kind: ErrInvalidDiagnosis}
	var r Result
	index := map[string]int{}
	known := map[string]bool{}
	for _, qu := range q.Questions {
		known[qu.ID] = true
		i, ok := index[qu.Category]
		if !ok {
			i = len(r.Categories)
			index[qu.Category] = i
			r.Categories = append(r.Categories, CategoryScore{Category: qu.Category})
		}
		best := 0
		for _, c := range qu.Choices {
			best = max(best, c.Score)
		}
		r.MaxScore += best
		r.Categories[i].MaxScore += best
		v, answered := answers[qu.ID]
		if !answered || v == "" {
			f.add("answers."+qu.ID, CodeRequired, "question %s is not answered", qu.ID)
			continue
		}
		found := false
		for _, c := range qu.Choices {
			if c.Value == v {
				r.Score += c.Score
				r.Categories[i].Score += c.Score
				found = true
				break
			}
		}
		if !found {
			f.add("answers."+qu.ID, CodeInvalidChoice, "%s is not one of the choices of question %s", v, qu.ID)
		}
	}
	var unknown []string
	for id := range answers {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	slices.Sort(unknown)
	for _, id := range unknown {
		f.add("answers."+id, CodeUnknownQuestion, "the questionnaire has no question %s", id)
	}
	r.RiskLevel = RiskOf(r.Score, r.MaxScore)
	return r, f.list
}
