//go:build deps

package deps

import (
	_ "github.com/FerretDB/FerretDB/ferretdb"
	_ "github.com/alicebob/miniredis/v2"
	_ "github.com/coder/websocket"
	_ "github.com/fsouza/go-dockerclient"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/getkin/kin-openapi/openapi3filter"
	_ "github.com/labstack/echo/v4"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/redis/go-redis/v9"
	_ "go.mongodb.org/mongo-driver/v2/mongo"
	_ "go.uber.org/fx"
	_ "golang.org/x/crypto/bcrypt"
)
