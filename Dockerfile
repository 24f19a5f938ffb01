# syntax=docker/dockerfile:1
# Pharos: one static binary, no shell, non-root, CA certificates included.
#   docker build -t pharos .                                       # version "dev"
#   docker build --build-arg VERSION=v1.4.0 -t pharos .            # a release
#   docker run -p 8080:8080 -v pharos-data:/data pharos            # all-in-one on SQLite
#   docker run pharos serve / pharos probe --region fra             # distributed roles

FROM golang:1.26-bookworm AS build
# VERSION is what `pharos --version` prints and pharos_build_info exports;
# .git stays out of the build context, so there is no VCS stamp to fall back on.
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces the password estimator with the patched copy here
# (app/web/auth/zxcvbn/PHAROS.md): go mod download reads its go.mod.
COPY app/web/auth/zxcvbn/go.mod app/web/auth/zxcvbn/
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w -X pharos/app/buildinfo.version=${VERSION}" -o /out/pharos . \
 && mkdir -p /out/data

# distroless/static ships CA certificates and tzdata (maintenance windows are
# computed in their own time zone) and runs as uid 65532 ("nonroot").
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pharos /pharos
COPY --from=build --chown=65532:65532 /out/data /data
ENV PHAROS_LISTEN=:8080 \
    PHAROS_DATABASE_URL=sqlite:///data/pharos.db
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["/pharos", "healthcheck"]
ENTRYPOINT ["/pharos"]
CMD ["run"]
