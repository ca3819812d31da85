# syntax=docker.io/docker/dockerfile:1
# Build on the builder's own platform and cross-compile for the target, so a
# multi-arch build needs no emulation (no QEMU):
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v1.2.3 .
# Base images are named with their registry: buildah and podman as Debian
# configures them have no default registry for short names (image_test.go).
FROM --platform=$BUILDPLATFORM docker.io/library/golang:1.26-bookworm AS build
WORKDIR /src
# Module downloads in their own layer: it changes only with go.mod/go.sum, is
# the same for every target platform and version (the ARGs come after it), and
# is kept by any layer cache, including CI's (cache mounts are not exported).
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
# Static (no cgo), stripped, no local paths. image_test.go and bench/ build
# the binary with this very command, read from this file.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/jira-cicd .

# scratch: the static binary alone. CA roots are compiled in
# (x509roots/fallback's bundle, see internal/jira/roots.go). No USER and no WORKDIR: GitHub runs
# container actions as root with the workspace mounted as the working directory.
FROM scratch
COPY --from=build /out/jira-cicd /jira-cicd
ENTRYPOINT ["/jira-cicd"]
