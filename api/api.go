package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"
)

// source is the hand-written document. It uses YAML anchors and merge keys,
// whose reusable pieces sit under the top-level "x-fragments" key.
//
//go:embed openapi.yaml
var source []byte

// fragmentsKey holds the YAML anchors' definitions; it is not part of the
// served document.
const fragmentsKey = "x-fragments"

var jsonDoc = sync.OnceValues(func() ([]byte, error) { return toJSON(source) })

// JSON returns the OpenAPI 3.0.3 document as JSON, as served at
// GET /openapi.json. It is computed once; callers must not modify the slice.
// It panics if the embedded document is not valid YAML, which the package's
// tests rule out.
func JSON() []byte {
	b, err := jsonDoc()
	if err != nil {
		panic(fmt.Sprintf("api: embedded openapi.yaml: %v", err))
	}
	return b
}

// Load parses the document into a fresh *openapi3.T (each call returns a new
// value the caller may modify) and validates it. It returns an error only if
// the embedded document is broken.
func Load() (*openapi3.T, error) {
	b, err := jsonDoc()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate openapi document: %w", err)
	}
	return doc, nil
}

// toJSON decodes YAML (resolving anchors and merge keys), drops the
// fragments key and encodes the result as JSON.
func toJSON(src []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	v, err := jsonValue(v)
	if err != nil {
		return nil, err
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("document is a %T, not a mapping", v)
	}
	delete(root, fragmentsKey)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// jsonValue turns what the YAML decoder produced into values encoding/json
// accepts: mappings with non-string keys become map[string]any.
func jsonValue(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			c, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			v[k] = c
		}
		return v, nil
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			c, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = c
		}
		return m, nil
	case []any:
		for i, e := range v {
			c, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			v[i] = c
		}
		return v, nil
	case string, bool, int, int64, uint64, float64, nil:
		return v, nil
	default:
		return nil, fmt.Errorf("unsupported yaml value %T (%v); quote it", v, v)
	}
}
