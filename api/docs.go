package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

var docsPage = sync.OnceValues(func() ([]byte, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	return renderDocs(doc)
})

// DocsHTML returns the self-contained HTML page served at GET /docs: the
// document's operations grouped by section (tag), with their parameters,
// request and response schemas and examples, then the component schemas. The
// page has no scripts and loads nothing from elsewhere. It is rendered once;
// callers must not modify the slice. It panics if the embedded document is
// broken, which the package's tests rule out.
func DocsHTML() []byte {
	b, err := docsPage()
	if err != nil {
		panic(fmt.Sprintf("api: render docs: %v", err))
	}
	return b
}

// The page's view model.
type (
	pageView struct {
		Title, Version string
		Description    template.HTML
		Security       []securityView
		Sections       []sectionView
		Schemas        []schemaView
	}
	securityView struct {
		Name        string
		Kind        string
		Description template.HTML
	}
	sectionView struct {
		ID, Name    string
		Description template.HTML
		Ops         []opView
	}
	opView struct {
		ID, Method, Path, Summary string
		Description               template.HTML
		Auth                      string
		Params                    []paramView
		Body                      *bodyView
		Responses                 []responseView
		Extensions                []extensionView
	}
	paramView struct {
		Name, In    string
		Required    bool
		Type        template.HTML
		Description template.HTML
	}
	bodyView struct {
		Required    bool
		Description template.HTML
		Contents    []contentView
	}
	contentView struct {
		MediaType  string
		Type       template.HTML
		Fields     []fieldView
		Example    string
		Extensions []extensionView
	}
	responseView struct {
		Status      string
		Description template.HTML
		Headers     []paramView
		Contents    []contentView
	}
	extensionView struct {
		Name, JSON string
	}
	fieldView struct {
		Name     string
		Type     template.HTML
		Required bool
		Notes    template.HTML
		Fields   []fieldView
	}
	schemaView struct {
		ID, Name    string
		Description template.HTML
		Type        template.HTML
		Fields      []fieldView
		Example     string
	}
)

// headersOnEveryResponse are listed once in the introduction, not per response.
var headersOnEveryResponse = map[string]bool{
	"X-Request-Id": true, "RateLimit-Limit": true, "RateLimit-Remaining": true, "RateLimit-Reset": true,
}

var methodOrder = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
	http.MethodHead, http.MethodOptions, http.MethodTrace,
}

func renderDocs(doc *openapi3.T) ([]byte, error) {
	page := pageView{Title: doc.Info.Title, Version: doc.Info.Version, Description: markdown(doc.Info.Description)}

	if doc.Components != nil {
		names := make([]string, 0, len(doc.Components.SecuritySchemes))
		for name := range doc.Components.SecuritySchemes {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			s := doc.Components.SecuritySchemes[name].Value
			kind := s.Type
			switch s.Type {
			case "apiKey":
				kind = fmt.Sprintf("apiKey in %s %q", s.In, s.Name)
			case "http":
				kind = "http " + s.Scheme
			}
			page.Security = append(page.Security, securityView{Name: name, Kind: kind, Description: markdown(s.Description)})
		}
	}

	sections := map[string]*sectionView{}
	var order []string
	for _, tag := range doc.Tags {
		sections[tag.Name] = &sectionView{ID: "tag-" + slug(tag.Name), Name: tag.Name, Description: markdown(tag.Description)}
		order = append(order, tag.Name)
	}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for _, method := range methodOrder {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			sec, ok := sections[tag]
			if !ok {
				sec = &sectionView{ID: "tag-" + slug(tag), Name: tag}
				sections[tag] = sec
				order = append(order, tag)
			}
			sec.Ops = append(sec.Ops, opFor(doc, path, method, item, op))
		}
	}
	for _, name := range order {
		if sec := sections[name]; len(sec.Ops) > 0 {
			page.Sections = append(page.Sections, *sec)
		}
	}

	if doc.Components != nil {
		names := make([]string, 0, len(doc.Components.Schemas))
		for name := range doc.Components.Schemas {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			s := doc.Components.Schemas[name].Value
			page.Schemas = append(page.Schemas, schemaView{
				ID: "schema-" + name, Name: name, Description: markdown(s.Description),
				Type: typeOf(&openapi3.SchemaRef{Value: s}), Fields: fieldsOf(s, 0), Example: exampleJSON(s.Example),
			})
		}
	}

	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("execute docs template: %w", err)
	}
	return buf.Bytes(), nil
}

func opFor(doc *openapi3.T, path, method string, item *openapi3.PathItem, op *openapi3.Operation) opView {
	id := op.OperationID
	if id == "" {
		id = slug(method + " " + path)
	}
	v := opView{
		ID: "op-" + id, Method: method, Path: path, Summary: op.Summary,
		Description: markdown(op.Description), Auth: authOf(doc, op),
	}
	for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
		if p.Value != nil {
			v.Params = append(v.Params, paramFor(p.Value))
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		v.Body = &bodyView{Required: rb.Value.Required, Description: markdown(rb.Value.Description),
			Contents: contentsOf(rb.Value.Content, exampleOwn|exampleSchema)}
	}
	if op.Responses != nil {
		codes := make([]string, 0, op.Responses.Len())
		for code := range op.Responses.Map() {
			codes = append(codes, code)
		}
		sort.Strings(codes)
		for _, code := range codes {
			ref := op.Responses.Value(code)
			r := ref.Value
			if r == nil {
				continue
			}
			// Shared error responses stay short; successes show an example,
			// from the schema when the response has none of its own.
			examples := exampleOwn
			switch {
			case ref.Ref != "":
				examples = 0
			case code < "400":
				examples |= exampleSchema
			}
			rv := responseView{Status: code, Contents: contentsOf(r.Content, examples)}
			if r.Description != nil {
				rv.Description = markdown(*r.Description)
			}
			names := make([]string, 0, len(r.Headers))
			for name := range r.Headers {
				if !headersOnEveryResponse[name] {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			for _, name := range names {
				h := r.Headers[name].Value
				pv := paramFor(&h.Parameter)
				pv.Name, pv.In = name, "header"
				rv.Headers = append(rv.Headers, pv)
			}
			v.Responses = append(v.Responses, rv)
		}
	}
	v.Extensions = extensionsOf(op.Extensions)
	return v
}

func authOf(doc *openapi3.T, op *openapi3.Operation) string {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	if len(reqs) == 0 {
		return "public"
	}
	var alts []string
	for _, req := range reqs {
		if len(req) == 0 {
			alts = append(alts, "none")
			continue
		}
		names := make([]string, 0, len(req))
		for name := range req {
			names = append(names, name)
		}
		sort.Strings(names)
		alts = append(alts, strings.Join(names, " and "))
	}
	return strings.Join(alts, " or ")
}

func paramFor(p *openapi3.Parameter) paramView {
	return paramView{Name: p.Name, In: p.In, Required: p.Required, Type: typeOf(p.Schema),
		Description: notes(p.Description, p.Schema)}
}

// Which examples contentsOf shows.
const (
	exampleOwn    = 1 << iota // the media type's example(s)
	exampleSchema             // else the schema's example
)

func contentsOf(content openapi3.Content, examples int) []contentView {
	types := make([]string, 0, len(content))
	for mt := range content {
		types = append(types, mt)
	}
	sort.Strings(types)
	var out []contentView
	for _, mt := range types {
		m := content[mt]
		cv := contentView{MediaType: mt, Type: typeOf(m.Schema), Extensions: extensionsOf(m.Extensions)}
		if m.Schema != nil && m.Schema.Ref == "" && m.Schema.Value != nil {
			cv.Fields = fieldsOf(m.Schema.Value, 0)
		}
		switch {
		case examples&exampleOwn == 0:
		case m.Example != nil:
			cv.Example = exampleJSON(m.Example)
		case len(m.Examples) > 0:
			names := make([]string, 0, len(m.Examples))
			for name := range m.Examples {
				names = append(names, name)
			}
			sort.Strings(names)
			if ex := m.Examples[names[0]]; ex.Value != nil {
				cv.Example = exampleJSON(ex.Value.Value)
			}
		case examples&exampleSchema != 0 && m.Schema != nil && m.Schema.Value != nil:
			cv.Example = exampleJSON(schemaExample(m.Schema.Value))
		}
		out = append(out, cv)
	}
	return out
}

// schemaExample is the schema's example, or an array of its items' example.
func schemaExample(s *openapi3.Schema) any {
	if s.Example != nil {
		return s.Example
	}
	if s.Type.Is(openapi3.TypeArray) && s.Items != nil && s.Items.Value != nil && s.Items.Value.Example != nil {
		return []any{s.Items.Value.Example}
	}
	return nil
}

func extensionsOf(ext map[string]any) []extensionView {
	names := make([]string, 0, len(ext))
	for name := range ext {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []extensionView
	for _, name := range names {
		out = append(out, extensionView{Name: name, JSON: exampleJSON(ext[name])})
	}
	return out
}

// fieldsOf lists an object schema's properties, required ones first, nested
// inline objects expanded a few levels deep.
func fieldsOf(s *openapi3.Schema, depth int) []fieldView {
	if s == nil || len(s.Properties) == 0 || depth > 3 {
		return nil
	}
	required := map[string]bool{}
	for _, name := range s.Required {
		required[name] = true
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		if required[names[i]] != required[names[j]] {
			return required[names[i]]
		}
		return names[i] < names[j]
	})
	out := make([]fieldView, 0, len(names))
	for _, name := range names {
		p := s.Properties[name]
		f := fieldView{Name: name, Type: typeOf(p), Required: required[name]}
		if p.Value != nil {
			f.Notes = notes(p.Value.Description, p)
			if p.Ref == "" {
				f.Fields = fieldsOf(p.Value, depth+1)
			}
		}
		out = append(out, f)
	}
	return out
}

// typeOf renders a schema's type: a link for a named component, "array of X",
// "map of string to X", alternatives, or the JSON type with its format.
func typeOf(ref *openapi3.SchemaRef) template.HTML {
	if ref == nil {
		return "any"
	}
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
		return template.HTML(fmt.Sprintf(`<a href="#schema-%s">%s</a>`, template.HTMLEscapeString(name), template.HTMLEscapeString(name)))
	}
	s := ref.Value
	if s == nil {
		return template.HTML(template.HTMLEscapeString(ref.Ref))
	}
	var t string
	switch {
	case len(s.OneOf) > 0 || len(s.AnyOf) > 0:
		alts := s.OneOf
		if len(alts) == 0 {
			alts = s.AnyOf
		}
		parts := make([]string, 0, len(alts))
		for _, a := range alts {
			parts = append(parts, string(typeOf(a)))
		}
		t = "one of " + strings.Join(parts, " | ")
	case s.Type.Is(openapi3.TypeArray):
		t = "array of " + string(typeOf(s.Items))
	case s.Type.Is(openapi3.TypeObject) && s.AdditionalProperties.Schema != nil:
		t = "map of string to " + string(typeOf(s.AdditionalProperties.Schema))
	case s.Type != nil && len(s.Type.Slice()) > 0:
		t = template.HTMLEscapeString(strings.Join(s.Type.Slice(), " | "))
		if s.Format != "" {
			t += " (" + template.HTMLEscapeString(s.Format) + ")"
		}
	default:
		t = "any"
	}
	if s.Nullable {
		t += " | null"
	}
	return template.HTML(t)
}

// notes is a description followed by the schema's constraints.
func notes(desc string, ref *openapi3.SchemaRef) template.HTML {
	var parts []string
	if desc != "" {
		parts = append(parts, string(markdown(desc)))
	}
	if ref != nil && ref.Ref == "" && ref.Value != nil {
		s := ref.Value
		var rules []string
		if len(s.Enum) > 0 {
			vals := make([]string, 0, len(s.Enum))
			for _, e := range s.Enum {
				b, _ := json.Marshal(e)
				vals = append(vals, string(b))
			}
			rules = append(rules, "one of "+strings.Join(vals, ", "))
		}
		if s.Pattern != "" {
			rules = append(rules, "pattern "+s.Pattern)
		}
		if s.Min != nil {
			rules = append(rules, fmt.Sprintf("≥ %v", *s.Min))
		}
		if s.Max != nil {
			rules = append(rules, fmt.Sprintf("≤ %v", *s.Max))
		}
		if s.MinLength > 0 {
			rules = append(rules, fmt.Sprintf("at least %d characters", s.MinLength))
		}
		if s.MaxLength != nil {
			rules = append(rules, fmt.Sprintf("at most %d characters", *s.MaxLength))
		}
		if s.MaxItems != nil {
			rules = append(rules, fmt.Sprintf("at most %d items", *s.MaxItems))
		}
		if s.Default != nil {
			b, _ := json.Marshal(s.Default)
			rules = append(rules, "default "+string(b))
		}
		for _, r := range rules {
			parts = append(parts, `<span class="rule">`+template.HTMLEscapeString(r)+`</span>`)
		}
	}
	return template.HTML(strings.Join(parts, " "))
}

func exampleJSON(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// markdown renders the small Markdown subset the document uses: paragraphs,
// "- " lists and `code` spans. Everything else is escaped text.
func markdown(s string) template.HTML {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var out strings.Builder
	for _, block := range strings.Split(s, "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if strings.HasPrefix(lines[0], "- ") {
			var items []string
			for _, line := range lines {
				if rest, ok := strings.CutPrefix(line, "- "); ok {
					items = append(items, rest)
				} else if len(items) > 0 {
					items[len(items)-1] += " " + strings.TrimSpace(line)
				}
			}
			out.WriteString("<ul>")
			for _, item := range items {
				out.WriteString("<li>" + inline(item) + "</li>")
			}
			out.WriteString("</ul>")
			continue
		}
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		out.WriteString("<p>" + inline(strings.Join(lines, " ")) + "</p>")
	}
	return template.HTML(out.String())
}

// inline escapes text and turns `spans` into <code>.
func inline(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
			continue
		}
		if i%2 == 1 {
			b.WriteString("`")
		}
		b.WriteString(template.HTMLEscapeString(p))
	}
	return b.String()
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1d1f21; }
nav { position: fixed; top: 0; bottom: 0; left: 0; width: 20rem; overflow-y: auto; padding: 1rem; background: #f4f5f7; border-right: 1px solid #ddd; font-size: 13px; }
nav ul { list-style: none; padding-left: 0.5rem; margin: 0.2rem 0 0.8rem; }
nav a { text-decoration: none; color: inherit; }
main { margin-left: 22rem; padding: 1rem 2rem 4rem; max-width: 70rem; }
h1 { margin-top: 0; }
h2 { border-bottom: 2px solid #ccc; padding-bottom: 0.2rem; margin-top: 3rem; }
section.op { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem 1rem; margin: 1.2rem 0; }
h3 { font-family: ui-monospace, monospace; font-size: 16px; }
.method { display: inline-block; min-width: 4.5rem; padding: 0 0.4rem; border-radius: 4px; color: #fff; background: #555; text-align: center; }
.GET { background: #2f6fb0; } .POST { background: #2e8b57; } .PUT { background: #b8860b; } .PATCH { background: #8a5fb0; } .DELETE { background: #b03a2e; }
code, pre { font-family: ui-monospace, monospace; font-size: 13px; background: #f4f5f7; border-radius: 3px; }
code { padding: 0 0.2rem; }
pre { padding: 0.6rem; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0; }
th, td { border: 1px solid #e1e1e1; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #fafafa; }
td p { margin: 0; }
.rule { display: inline-block; color: #555; background: #eef; border-radius: 3px; padding: 0 0.3rem; margin: 0.1rem 0.2rem 0.1rem 0; font-size: 12px; }
.auth { color: #555; font-size: 13px; }
.status { font-weight: bold; font-family: ui-monospace, monospace; float: left; margin-right: 0.6rem; }
.response { clear: both; margin: 0.4rem 0; }
</style>
</head>
<body>
<nav>
<strong>{{.Title}} {{.Version}}</strong>
{{range .Sections}}<div><a href="#{{.ID}}">{{.Name}}</a><ul>{{range .Ops}}<li><a href="#{{.ID}}">{{.Method}} {{.Path}}</a></li>{{end}}</ul></div>
{{end}}<div><a href="#schemas">schemas</a></div>
</nav>
<main>
<h1>{{.Title}} <small>version {{.Version}}</small></h1>
{{.Description}}
<p>Every response carries <code>X-Request-Id</code>; responses to rate-counted requests carry <code>RateLimit-Limit</code>, <code>RateLimit-Remaining</code> and <code>RateLimit-Reset</code>. They are not repeated below.</p>
<h2 id="security">Authentication</h2>
<table><tr><th>Scheme</th><th>Kind</th><th>Notes</th></tr>
{{range .Security}}<tr><td><code>{{.Name}}</code></td><td>{{.Kind}}</td><td>{{.Description}}</td></tr>
{{end}}</table>
{{range .Sections}}
<h2 id="{{.ID}}">{{.Name}}</h2>
{{.Description}}
{{range .Ops}}
<section class="op" id="{{.ID}}">
<h3><span class="method {{.Method}}">{{.Method}}</span> {{.Path}}</h3>
<p><strong>{{.Summary}}</strong> <span class="auth">— auth: {{.Auth}}</span></p>
{{.Description}}
{{if .Params}}<h4>Parameters</h4>
<table><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Notes</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Type}}</td><td>{{if .Required}}yes{{end}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
{{with .Body}}<h4>Request body{{if .Required}} (required){{end}}</h4>
{{.Description}}
{{range .Contents}}{{template "content" .}}{{end}}{{end}}
<h4>Responses</h4>
{{range .Responses}}<div class="response"><div><span class="status">{{.Status}}</span> {{.Description}}</div>
{{if .Headers}}<table><tr><th>Header</th><th>Type</th><th>Required</th><th>Notes</th></tr>
{{range .Headers}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{if .Required}}yes{{end}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
{{range .Contents}}{{template "content" .}}{{end}}</div>
{{end}}
{{range .Extensions}}<h4>{{.Name}}</h4><pre>{{.JSON}}</pre>{{end}}
</section>
{{end}}
{{end}}
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}<section class="schema" id="{{.ID}}">
<h3>{{.Name}}</h3>
{{.Description}}
<p>Type: {{.Type}}</p>
{{if .Fields}}{{template "fields" .Fields}}{{end}}
{{if .Example}}<p>Example:</p><pre>{{.Example}}</pre>{{end}}
</section>
{{end}}
</main>
</body>
</html>
{{define "content"}}<p><code>{{.MediaType}}</code>: {{.Type}}</p>
{{if .Fields}}{{template "fields" .Fields}}{{end}}
{{if .Example}}<pre>{{.Example}}</pre>{{end}}
{{range .Extensions}}<p>{{.Name}}</p><pre>{{.JSON}}</pre>{{end}}{{end}}
{{define "fields"}}<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Notes</th></tr>
{{range .}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{if .Required}}yes{{end}}</td><td>{{.Notes}}{{if .Fields}}{{template "fields" .Fields}}{{end}}</td></tr>
{{end}}</table>{{end}}
`))
