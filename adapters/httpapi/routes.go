package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// route registers one method and path with its options; every /runnables
// route is also served at /images.
func (s *Server) route(method, path string, h echo.HandlerFunc, o routeOpts) {
	s.e.Add(method, path, s.wrap(h, o))
	if len(path) >= 10 && path[:10] == "/runnables" {
		s.e.Add(method, "/images"+path[10:], s.wrap(h, o))
	}
}

func (s *Server) routes() {
	public := routeOpts{public: true}
	ops := routeOpts{public: true, ops: true}
	any := routeOpts{}

	s.route(http.MethodGet, "/", s.root, public)
	s.route(http.MethodGet, "/healthz", s.healthz, ops)
	s.route(http.MethodGet, "/readyz", s.readyz, ops)
	s.route(http.MethodGet, "/metrics", s.metricsHandler, ops)
	s.route(http.MethodGet, "/openapi.json", s.openapi, ops)
	s.route(http.MethodGet, "/docs", s.docs, ops)

	// users and tokens (spec §2)
	s.route(http.MethodPost, "/users", s.createUser, routeOpts{public: true, bucket: "signup"})
	s.route(http.MethodGet, "/users", s.listUsers, any)
	s.route(http.MethodPost, "/token", s.login, routeOpts{public: true, optToken: true, bucket: "login"})
	s.route(http.MethodDelete, "/token", s.logout, any)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		h := map[string]echo.HandlerFunc{http.MethodGet: s.getUser, http.MethodPut: s.updateUser,
			http.MethodPatch: s.updateUser, http.MethodDelete: s.deleteUser}[m]
		s.route(m, "/users/:userId", h, any)
	}
	s.route(http.MethodPut, "/users/:userId/permission_level", s.setLevel, any)

	// images (spec §3)
	s.route(http.MethodGet, "/runnables", s.listImages, any)
	s.route(http.MethodPost, "/runnables", s.createImage, any)
	s.route(http.MethodGet, "/runnables/:id", s.getImage, any)
	s.route(http.MethodPut, "/runnables/:id", s.overwriteImage, any)
	s.route(http.MethodPatch, "/runnables/:id", s.patchImage, any)
	s.route(http.MethodDelete, "/runnables/:id", s.deleteImage, any)
	s.route(http.MethodGet, "/runnables/:id/files", s.listImageFiles, any)
	s.route(http.MethodGet, "/runnables/:id/files/:fileId", s.getImageFile, any)

	// drafts (spec §4) and their files (spec §5)
	d := "/users/:userId/runnables"
	s.route(http.MethodPost, d, s.fork, any)
	s.route(http.MethodGet, d, s.listDrafts, any)
	s.route(http.MethodGet, d+"/:id", s.getDraft, any)
	s.route(http.MethodPut, d+"/:id", s.updateDraft, any)
	s.route(http.MethodPatch, d+"/:id", s.updateDraft, any)
	s.route(http.MethodDelete, d+"/:id", s.deleteDraft, any)
	for _, op := range []string{"start", "stop", "restart"} {
		s.route(http.MethodPost, d+"/:id/"+op, s.lifecycle(op), any)
		s.route(http.MethodPut, d+"/:id/"+op, s.lifecycle(op), any)
	}
	s.route(http.MethodPost, d+"/:id/save", s.saveDraft, any)
	s.route(http.MethodGet, d+"/:id/files", s.listDraftFiles, any)
	s.route(http.MethodPost, d+"/:id/files", s.createFile, any)
	s.route(http.MethodGet, d+"/:id/files/archive", s.archive, any)
	s.route(http.MethodGet, d+"/:id/files/:fileId", s.getDraftFile, any)
	s.route(http.MethodPut, d+"/:id/files/:fileId", s.updateFile, any)
	s.route(http.MethodPatch, d+"/:id/files/:fileId", s.updateFile, any)
	s.route(http.MethodDelete, d+"/:id/files/:fileId", s.deleteFile, any)
	s.route(http.MethodPost, d+"/:id/sync", s.sync, any)

	s.runtimeRoutes()    // runtime.go: logs, terminal, cleanup, import, export
	s.publishingRoutes() // publishing.go: tags, channels, categories, votes, stats, comments, feed
}
