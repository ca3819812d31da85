# syntax=docker/dockerfile:1
# Build on the builder's own platform and cross-compile for the target, so a
# multi-arch build (docker buildx build --platform linux/amd64,linux/arm64)
# needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
# Module downloads in their own layer: they change only with go.mod/go.sum.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/jira-cicd .

# scratch: the static binary alone. CA roots are compiled in
# (golang.org/x/crypto/x509roots/fallback). No USER and no WORKDIR: GitHub runs
# container actions as root with the workspace mounted as the working directory.
FROM scratch
COPY --from=build /out/jira-cicd /jira-cicd
ENTRYPOINT ["/jira-cicd"]
