package api

import "encoding/json"

// secretKeys are event-data fields that hold password hashes or sealed secrets: not plain
// text, but nothing an API reader needs either.
var secretKeys = map[string]bool{
	"secrets": true, "securityReportPasswordSealed": true, "passwordHash": true,
	"sealedTotpSecret": true, "keyHash": true, "sessionTokenHash": true,
	"tokenHash": true, "agentTokenHash": true, // enrollment and agent tokens (domain/telemetry)
}

// redact removes secret fields from event data, at any depth.
func redact(data json.RawMessage) json.RawMessage {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return data
	}
	out, err := json.Marshal(strip(v))
	if err != nil {
		return data
	}
	return out
}

func strip(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if secretKeys[k] {
				delete(v, k)
				continue
			}
			v[k] = strip(x)
		}
	case []any:
		for i, x := range v {
			v[i] = strip(x)
		}
	}
	return v
}
