# Multi-stage build: a static binary (CGO_ENABLED=0) on a small base,
# running as a non-root user.
FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/switchboard .

FROM alpine:3.22
RUN addgroup -S switchboard && adduser -S -G switchboard -h /var/lib/switchboard switchboard
COPY --from=build /out/switchboard /usr/local/bin/switchboard
USER switchboard
WORKDIR /var/lib/switchboard
# Listen on all interfaces inside the container. Off loopback the server
# refuses to start without configured apps: set SWITCHBOARD_APP_ID/KEY/SECRET
# or SWITCHBOARD_APPS_FILE.
ENV SWITCHBOARD_ADDR=0.0.0.0:8080
# The embedded store's SQLite file lives here unless SWITCHBOARD_DATABASE_URL
# points at Postgres.
ENV SWITCHBOARD_SQLITE_PATH=/var/lib/switchboard/switchboard.db
VOLUME /var/lib/switchboard
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
  CMD wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve"]
