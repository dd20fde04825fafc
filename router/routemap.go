package router

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// Form is the route map of a page that shows an HTML form and handles its
// submission at the same URL, as fetch-router's form() helper builds it:
// Index shows the form (GET) and Action receives it (POST). Build one with
// [NewForm].
type Form struct {
	Index  Route // GET pattern
	Action Route // POST pattern
}

// NewForm returns the [Form] routes for pattern: Index is GET pattern and
// Action is POST pattern.
//
// The pattern is a path pattern in ServeMux syntax; a missing leading "/" is
// added ("login" is "/login", as in fetch-router), and a pattern that is just
// "/" or ends in "/" matches that exact path (it becomes "/{$}" or
// "/account/{$}": a ServeMux pattern ending in "/" would match everything
// below it). For a form submitted with another method, change Action.Method
// ("PUT", say, with [MethodOverride] for HTML forms).
//
// NewForm panics if the pattern is invalid; the message names it.
func NewForm(pattern string) Form {
	p := join(pattern, "")
	checkHelperPattern(fmt.Sprintf("NewForm(%q)", pattern), p)
	return Form{
		Index:  Route{Method: "GET", Pattern: p},
		Action: Route{Method: "POST", Pattern: p},
	}
}

// ResourceOptions configures [NewResources] and [NewResource].
//
// Only and Except name routes by their fetch-router names, the lower-case
// field names of [Resources] and [Resource]: "index", "new", "show",
// "create", "edit", "update", "destroy" (field names such as "Show" work
// too). A route left out is a zero [Route] in the result; [Router.Map] skips
// it, and panics if a handler is given for it.
type ResourceOptions struct {
	// Param names the wildcard that identifies one resource of a collection:
	// Show is /posts/{Param}. Empty means "id". NewResource (a singular
	// resource) has no such wildcard and panics if it is set.
	Param string
	// Only, when not nil, keeps just the routes it names.
	Only []string
	// Except, when not nil, leaves out the routes it names. Setting both Only
	// and Except panics, as fetch-router refuses both "only" and "exclude".
	Except []string
}

// Resources is the route map of a collection of resources, fetch-router's
// resources() helper with its routes, methods and patterns in ServeMux syntax.
// For the base "/posts" and the default Param "id":
//
//	Index    GET    /posts            list the posts
//	New      GET    /posts/new        show the form for a new post
//	Show     GET    /posts/{id}       show one post
//	Create   POST   /posts            create a post
//	Edit     GET    /posts/{id}/edit  show the form to edit a post
//	Update   PUT    /posts/{id}       update a post
//	Destroy  DELETE /posts/{id}       delete a post
//
// The field order is fetch-router's key order (New before Show). /posts/new
// wins over /posts/{id} however they are registered, since ServeMux picks the
// most specific pattern. HTML forms can only GET and POST: use
// [MethodOverride] to reach Update and Destroy from a form.
type Resources struct {
	Index, New, Show, Create, Edit, Update, Destroy Route
}

// Resource is the route map of a singular resource (one per visitor, such as
// a profile or a shopping cart), fetch-router's resource() helper. For the
// base "/profile":
//
//	New      GET    /profile/new
//	Show     GET    /profile
//	Create   POST   /profile
//	Edit     GET    /profile/edit
//	Update   PUT    /profile
//	Destroy  DELETE /profile
type Resource struct {
	New, Show, Create, Edit, Update, Destroy Route
}

var (
	resourcesNames = []string{"index", "new", "show", "create", "edit", "update", "destroy"}
	resourceNames  = []string{"new", "show", "create", "edit", "update", "destroy"}
)

// NewResources returns the [Resources] routes below base (a path pattern in
// ServeMux syntax, which may hold wildcards of its own:
// "/brands/{brandId}/products"). A missing leading "/" is added; a trailing
// "/" is dropped for the sub-routes and kept, as "{$}", for Index and Create
// ("/posts/" gives "/posts/{$}" and "/posts/new").
//
// NewResources panics, naming base, if both Only and Except are set, if they
// name an unknown route, or if a resulting pattern is invalid (a bad Param, a
// Param that repeats a wildcard of base, a base that ends in {name...}).
func NewResources(base string, o ResourceOptions) Resources {
	op := fmt.Sprintf("NewResources(%q)", base)
	keep := included(op, resourcesNames, o)
	param := o.Param
	if param == "" {
		param = "id"
	}
	one := "/{" + param + "}"
	var res Resources
	buildRoutes(op, base, keep, []routeDef{
		{"index", "GET", "", &res.Index},
		{"new", "GET", "/new", &res.New},
		{"show", "GET", one, &res.Show},
		{"create", "POST", "", &res.Create},
		{"edit", "GET", one + "/edit", &res.Edit},
		{"update", "PUT", one, &res.Update},
		{"destroy", "DELETE", one, &res.Destroy},
	})
	return res
}

// NewResource returns the [Resource] routes of a singular resource at base,
// normalised as for [NewResources]. It panics, naming base, if Param is set
// (a singular resource has no id), if both Only and Except are set, if they
// name an unknown route ("index" included), or if a pattern is invalid.
func NewResource(base string, o ResourceOptions) Resource {
	op := fmt.Sprintf("NewResource(%q)", base)
	if o.Param != "" {
		panic(fmt.Sprintf("router: %s: Param %q: a singular resource has no id wildcard (use NewResources for a collection)", op, o.Param))
	}
	keep := included(op, resourceNames, o)
	var res Resource
	buildRoutes(op, base, keep, []routeDef{
		{"new", "GET", "/new", &res.New},
		{"show", "GET", "", &res.Show},
		{"create", "POST", "", &res.Create},
		{"edit", "GET", "/edit", &res.Edit},
		{"update", "PUT", "", &res.Update},
		{"destroy", "DELETE", "", &res.Destroy},
	})
	return res
}

// routeDef is one route of a resource: its fetch-router name, its method, its
// pattern below the base, and the field it fills.
type routeDef struct {
	name, method, sub string
	to                *Route
}

// buildRoutes fills the route of each def that keep names. Every pattern is
// checked, kept or not, so that a bad base or Param panics whatever Only and
// Except leave out.
func buildRoutes(op, base string, keep map[string]bool, defs []routeDef) {
	for _, d := range defs {
		p := join(base, d.sub)
		checkHelperPattern(op, p)
		if keep[d.name] {
			*d.to = Route{Method: d.method, Pattern: p}
		}
	}
}

// included resolves Only and Except into the set of route names to build.
func included(op string, names []string, o ResourceOptions) map[string]bool {
	if o.Only != nil && o.Except != nil {
		panic(fmt.Sprintf("router: %s: cannot specify both Only and Except", op))
	}
	keep := make(map[string]bool, len(names))
	if o.Only != nil {
		for _, n := range o.Only {
			keep[canonicalName(op, "Only", n, names)] = true
		}
		return keep
	}
	for _, n := range names {
		keep[n] = true
	}
	for _, n := range o.Except {
		delete(keep, canonicalName(op, "Except", n, names))
	}
	return keep
}

// canonicalName returns the route name among names that n spells in any
// letter case ("Show" is "show"), or panics naming the option that holds it.
func canonicalName(op, field, n string, names []string) string {
	for _, known := range names {
		if strings.EqualFold(n, known) {
			return known
		}
	}
	panic(fmt.Sprintf("router: %s: %s names an unknown route %q (known: %s)", op, field, n, strings.Join(names, ", ")))
}

// join appends a sub-pattern ("", "/new", "/{id}/edit") to a base pattern the
// way fetch-router joins patterns: a leading "/" is added to base, and base's
// trailing "/" (or "/{$}") is dropped before sub. When sub is empty the result
// is base itself, and a base that ended in "/" keeps matching only that exact
// path, which ServeMux spells "{$}".
func join(base, sub string) string {
	if !strings.HasPrefix(base, "/") {
		base = "/" + base
	}
	trailing := false
	switch {
	case strings.HasSuffix(base, "/{$}"):
		base, trailing = base[:len(base)-len("/{$}")], true
	case strings.HasSuffix(base, "/"):
		base, trailing = base[:len(base)-1], true
	}
	if sub != "" {
		return base + sub
	}
	if trailing {
		return base + "/{$}"
	}
	return base
}

func checkHelperPattern(op, p string) {
	if _, err := parsePattern(p); err != nil {
		panic(fmt.Sprintf("router: %s: %v", op, err))
	}
}

var (
	routeType       = reflect.TypeOf(Route{})
	handlerType     = reflect.TypeOf((*http.Handler)(nil)).Elem()
	handlerFuncType = reflect.TypeOf(http.HandlerFunc(nil))
)

// Map registers a route map: every [Route] field of routes with the handler
// in the field of the same name in handlers, wrapped in the route middleware
// mw (which applies to every route of the map, inside group middleware).
//
// routes is a struct (or a pointer to one) whose fields are Route values or
// nested route maps (structs or pointers to structs, such as [Resources] and
// [Form]); handlers is a struct (or a pointer to one) of the same shape whose
// fields are handlers (an http.Handler, an http.HandlerFunc or a
// func(http.ResponseWriter, *http.Request)) or nested structs of handlers.
// Fields pair by name, recursively; embedded structs are flattened as Go
// promotes their fields, so embedding a [Form] in a route map gives it Index
// and Action fields. The two structs are usually different types:
//
//	var Routes = struct {
//		Home  router.Route
//		Posts router.Resources
//	}{
//		Home:  router.Route{Method: "GET", Pattern: "/{$}"},
//		Posts: router.NewResources("/posts", router.ResourceOptions{Only: []string{"index", "show"}}),
//	}
//
//	r.Map(Routes, struct {
//		Home  http.HandlerFunc
//		Posts struct{ Index, Show http.HandlerFunc }
//	}{home, struct{ Index, Show http.HandlerFunc }{listPosts, showPost}})
//
// A zero Route is a route left out (by Only or Except, say) and needs no
// handler. Map also takes a single Route with a single handler:
// r.Map(Routes.Home, home).
//
// Map checks everything before it registers anything, and panics, naming the
// full field path ("Posts.Destroy"), for a route without a handler (fetch-router's
// "Missing action"), a handler without a route ("Unknown action"), a handler
// for a left-out route, a nil handler, a field of any other type, an unexported
// field, a nested map paired with a single handler or the other way round, and
// for everything [Router.Handle] refuses: an invalid method or pattern, a route
// registered twice or conflicting with another one. Like every setup method, it
// panics once the router has served a request.
func (r *Router) Map(routes, handlers any, mw ...Middleware) {
	where := callerLocation()
	r.t.begin("Map", where)
	defer r.t.mu.Unlock()
	checkMiddleware("Map", where, mw)
	pairs := mapPairs(routes, handlers, where)
	// Check every route against the table and against each other before
	// registering any, so that a panic leaves the router as it was.
	r.checkMapRoutes(pairs, where)
	for _, p := range pairs {
		r.handle(p.route, p.h, mw, p.what, where)
	}
}

// checkMapRoutes panics, as Handle would for the first bad one, if a route of
// pairs is invalid, is registered already, appears twice in pairs, or
// conflicts with a registered route or an earlier route of pairs.
func (r *Router) checkMapRoutes(pairs []mapPair, where string) {
	news := make([]*entry, 0, len(pairs))
	seen := map[string]*entry{}
	for _, p := range pairs {
		pat := r.checkRoute(p.route, nil, p.what, where)
		e := &entry{what: p.what, mux: p.route.String(), where: where}
		shape := p.route.Method + " " + pat.shape()
		r.t.checkShape(e, shape)
		if prev := seen[shape]; prev != nil {
			panic(fmt.Sprintf("router: %s at %s is the same route as %s", e.what, e.where, prev.what))
		}
		seen[shape] = e
		news = append(news, e)
	}
	r.t.checkConflicts(news)
}

// checkConflicts panics if an entry of news conflicts with a registered route
// or an earlier entry of news, trying them on a scratch ServeMux that holds
// the registered routes.
func (t *table) checkConflicts(news []*entry) {
	scratch := http.NewServeMux()
	nop := http.NotFoundHandler()
	for _, prev := range t.entries {
		scratch.Handle(prev.mux, nop)
	}
	earlier := slices.Clone(t.entries)
	for _, e := range news {
		if msg := tryRegister(scratch, e.mux, nop); msg != "" {
			panic(conflictMessage(earlier, e, msg))
		}
		earlier = append(earlier, e)
	}
}

// mapPair is one route of a route map with its handler.
type mapPair struct {
	what  string // "Posts.Show (GET /posts/{id})"
	route Route
	h     http.Handler
}

// mapPairs pairs the routes of a route map with their handlers, or panics
// with every problem it finds.
func mapPairs(routes, handlers any, where string) []mapPair {
	if rt, ok := routes.(Route); ok {
		return []mapPair{routePair(rt, handlers, where)}
	}
	rv, ok := structValue(reflect.ValueOf(routes))
	if !ok {
		panic(fmt.Sprintf("router: Map at %s: routes is %T; want a struct of router.Route fields (a route map), a pointer to one, or a Route", where, routes))
	}
	hv, ok := structValue(reflect.ValueOf(handlers))
	if !ok {
		panic(fmt.Sprintf("router: Map at %s: handlers is %T; want a struct of handler fields, or a pointer to one", where, handlers))
	}
	m := &mapper{}
	m.walk("", rv, hv, 0)
	switch len(m.problems) {
	case 0:
		return m.pairs
	case 1:
		panic(fmt.Sprintf("router: Map at %s: %s", where, m.problems[0]))
	default:
		panic(fmt.Sprintf("router: Map at %s: %d problems: %s", where, len(m.problems), strings.Join(m.problems, "; ")))
	}
}

// routePair pairs the single route of r.Map(route, handler).
func routePair(rt Route, handler any, where string) mapPair {
	hv := reflect.ValueOf(handler)
	h := asHandler(hv)
	if h == nil && hv.IsValid() && isHandlerType(hv.Type()) {
		panic(fmt.Sprintf("router: Map at %s: %s: nil handler", where, rt))
	}
	if h == nil {
		panic(fmt.Sprintf("router: Map at %s: %s: the handler is %T; want an http.Handler or an http.HandlerFunc", where, rt, handler))
	}
	if rt == (Route{}) {
		panic(fmt.Sprintf("router: Map at %s: a handler for a left-out route (a zero Route)", where))
	}
	return mapPair{what: rt.String(), route: rt, h: h}
}

// structValue returns v as a struct value: a struct, or the struct a non-nil
// pointer points at.
func structValue(v reflect.Value) (reflect.Value, bool) {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	return v, v.Kind() == reflect.Struct
}

// asHandler returns the handler v holds, or nil when v is not a handler type
// or holds nil.
func asHandler(v reflect.Value) http.Handler {
	if !v.IsValid() || !isHandlerType(v.Type()) {
		return nil
	}
	switch v.Kind() {
	case reflect.Func, reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan:
		if v.IsNil() {
			return nil
		}
	}
	if v.Type().Implements(handlerType) {
		return v.Interface().(http.Handler)
	}
	return v.Convert(handlerFuncType).Interface().(http.HandlerFunc)
}

func isHandlerType(t reflect.Type) bool {
	return t.Implements(handlerType) || t.Kind() == reflect.Func && t.ConvertibleTo(handlerFuncType)
}

// fieldKind classifies a field of a route map or a handler struct.
type fieldKind int

const (
	missingField fieldKind = iota // no field of that name on this side: the zero mapField
	badField
	leafField   // a Route, or a handler
	nestedField // a struct or a pointer to a struct
)

type mapField struct {
	name     string
	index    []int
	kind     fieldKind
	typ      reflect.Type
	exported bool
	note     string // why a badField is bad, when not its type
}

// mapFields lists the fields of struct value v as Map sees them: embedded
// structs flattened as Go promotes their fields, leaves and nested maps
// classified by leaf (Route on the routes side, a handler on the other). An
// invalid v, a side that does not exist, has no fields.
func mapFields(v reflect.Value, leaf func(reflect.Type) bool) []mapField {
	if !v.IsValid() {
		return nil
	}
	var out []mapField
	var leafEmbeds [][]int // embedded leaves: their own fields are not map fields
	for _, f := range reflect.VisibleFields(v.Type()) {
		if underLeaf(f.Index, leafEmbeds) {
			continue
		}
		if f.Anonymous && leaf(f.Type) {
			leafEmbeds = append(leafEmbeds, f.Index)
		}
		if mf, ok := newMapField(f, leaf); ok {
			out = append(out, mf)
		}
	}
	return out
}

// newMapField classifies struct field f. It reports false for an embedded
// struct, which is flattened (its fields follow in VisibleFields), unless the
// embedding hides a field of the same name.
func newMapField(f reflect.StructField, leaf func(reflect.Type) bool) (mapField, bool) {
	k := classify(f.Type, leaf)
	if f.Anonymous && k == nestedField {
		return hiddenByEmbedding(f)
	}
	if !f.IsExported() {
		k = badField
	}
	return mapField{name: f.Name, index: f.Index, kind: k, typ: f.Type, exported: f.IsExported()}, true
}

// hiddenByEmbedding returns a bad field when embedded struct f has a field of
// its own name, which Go promotes neither of.
func hiddenByEmbedding(f reflect.StructField) (mapField, bool) {
	st := f.Type
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if _, shadowed := st.FieldByName(f.Name); !shadowed {
		return mapField{}, false
	}
	return mapField{name: f.Name, index: f.Index, kind: badField, typ: f.Type, exported: true,
		note: fmt.Sprintf("embedded struct %s hides its own field %s (Go promotes neither); rename one", f.Name, f.Name)}, true
}

func underLeaf(index []int, leaves [][]int) bool {
	for _, l := range leaves {
		if len(index) > len(l) && slices.Equal(index[:len(l)], l) {
			return true
		}
	}
	return false
}

func classify(t reflect.Type, leaf func(reflect.Type) bool) fieldKind {
	switch {
	case leaf(t):
		return leafField
	case t.Kind() == reflect.Struct, t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		return nestedField
	}
	return badField
}

func isRouteType(t reflect.Type) bool { return t == routeType }

// maxMapDepth bounds the nesting of a route map, so that a recursive type
// (type Node struct{ Next *Node }) is an error rather than endless recursion.
const maxMapDepth = 32

// mapper walks a route map and a handler struct side by side.
type mapper struct {
	pairs    []mapPair
	problems []string
}

// fieldValue reads field f of struct value v, giving the zero value when an
// embedded pointer on the way is nil, the zero struct for a nil pointer to
// a nested map, and the invalid Value for a missing field.
func fieldValue(v reflect.Value, f mapField) reflect.Value {
	if f.kind == missingField {
		return reflect.Value{}
	}
	fv, err := v.FieldByIndexErr(f.index)
	if err != nil {
		fv = reflect.Zero(f.typ)
	}
	if f.kind == nestedField && fv.Kind() == reflect.Pointer {
		if fv.IsNil() {
			return reflect.Zero(fv.Type().Elem())
		}
		return fv.Elem()
	}
	return fv
}

// walk pairs the fields of route map rv with those of handler struct hv.
// Either may be invalid: a side that does not exist at all.
func (m *mapper) walk(prefix string, rv, hv reflect.Value, depth int) {
	if depth > maxMapDepth {
		m.problem("%s: nested more than %d levels deep (a recursive type?)", strings.TrimSuffix(prefix, "."), maxMapDepth)
		return
	}
	rfields := mapFields(rv, isRouteType)
	hfields := mapFields(hv, isHandlerType)
	hByName := make(map[string]mapField, len(hfields))
	for _, f := range hfields {
		hByName[f.name] = f
	}
	for _, rf := range rfields {
		hf := hByName[rf.name]
		delete(hByName, rf.name)
		m.pair(prefix+rf.name, rv, hv, rf, hf, depth)
	}
	for _, hf := range hfields { // the handlers that no route field named
		if _, left := hByName[hf.name]; left {
			m.pair(prefix+hf.name, rv, hv, mapField{}, hf, depth)
		}
	}
}

// pair pairs route field rf of rv with handler field hf of hv, both named
// path; at most one of them is missing.
func (m *mapper) pair(path string, rv, hv reflect.Value, rf, hf mapField, depth int) {
	if m.bad(path, routeSide, rf) || m.bad(path, handlerSide, hf) {
		return
	}
	rval, hval := fieldValue(rv, rf), fieldValue(hv, hf)
	if rf.kind == nestedField || hf.kind == nestedField {
		m.pairNested(path, rf, hf, rval, hval, depth)
		return
	}
	h := asHandler(hval)
	if rf.kind == missingField {
		if h != nil {
			m.problem("unknown handler %s: the route map has no route %s", path, path)
		}
		return
	}
	m.pairRoute(path, rval.Interface().(Route), h, hf.kind == leafField)
}

// pairNested walks a nested route map and the nested handler struct beside
// it, one of which may be missing.
func (m *mapper) pairNested(path string, rf, hf mapField, rval, hval reflect.Value, depth int) {
	switch {
	case hf.kind == leafField:
		m.problem("%s is a nested route map but the handler struct has a single handler %s", path, path)
	case rf.kind == leafField:
		m.problem("%s is a route but the handler struct has a nested struct %s", path, path)
	default:
		m.walk(path+".", rval, hval, depth+1)
	}
}

// pairRoute pairs a route with its handler h, which is nil when the handler
// field holds nil or, when hasField is false, does not exist.
func (m *mapper) pairRoute(path string, route Route, h http.Handler, hasField bool) {
	zero := route == Route{}
	switch {
	case zero && h != nil:
		m.problem("handler %s for a left-out route (%s is a zero Route)", path, path)
	case zero:
	case h != nil:
		m.pairs = append(m.pairs, mapPair{what: fmt.Sprintf("%s (%s)", path, route), route: route, h: h})
	case hasField:
		m.problem("nil handler for %s (%s)", path, route)
	default:
		m.problem("missing handler for %s (%s)", path, route)
	}
}

func (m *mapper) problem(format string, args ...any) {
	m.problems = append(m.problems, fmt.Sprintf(format, args...))
}

// side names one of the two structs Map reads, for messages about their
// fields.
type side struct {
	name  string // "route map"
	holds string // what its fields may be
}

var (
	routeSide   = side{"route map", "router.Route values and nested route maps (structs)"}
	handlerSide = side{"handler struct", "handlers (http.Handler, http.HandlerFunc) and nested structs of handlers"}
)

// bad records a problem for a field of the wrong type and reports whether
// there was one.
func (m *mapper) bad(path string, sd side, f mapField) bool {
	switch {
	case f.kind != badField:
		return false
	case f.note != "":
		m.problem("%s: %s", path, f.note)
	case !f.exported:
		m.problem("%s: unexported field in the %s; Map reads exported fields only", path, sd.name)
	default:
		m.problem("%s: field of type %s in the %s, which holds only %s", path, f.typ, sd.name, sd.holds)
	}
	return true
}
