package httpx

import (
	"net/http"
	"sort"
	"unicode/utf8"
)

// URLText refuses requests whose path or query carries text no store can hold or compare: invalid
// UTF-8 or a control character other than tab and newline (a NUL makes PostgreSQL refuse the
// whole statement, which would surface as a 500). A path segment with such text names nothing:
// 404. A query parameter with it is a bad parameter: 422 naming every one.
func URLText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !cleanText(r.URL.Path) {
			WriteProblem(w, r, NewProblem(http.StatusNotFound, "not-found", "Not Found", "No resource at this path."))
			return
		}
		if r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		var v ValidationError
		q := r.URL.Query()
		names := make([]string, 0, len(q))
		for name := range q {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			ok := cleanText(name)
			for _, val := range q[name] {
				ok = ok && cleanText(val)
			}
			if !ok {
				v.Add(shortKey(name), CodeControlCharacter, "holds invalid UTF-8 or a control character")
			}
		}
		if err := v.Err(); err != nil {
			WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func cleanText(s string) bool { return utf8.ValidString(s) && !HasControlCharacter(s) }
