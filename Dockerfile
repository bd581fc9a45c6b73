# syntax=docker/dockerfile:1
#
# A small image holding a static kgen binary, for the Argo CD repo-server sidecar
# (deploy/argocd-cmp, docs/argocd-cmp.md) and for CI jobs.
#
#   docker build -t ghcr.io/kgen-dev/kgen:0.1.0 .
#
# Stage `build` builds on Alpine, whose native Rust target is x86_64-unknown-linux-musl
# (aarch64-unknown-linux-musl on arm64): the binary is linked statically, C
# dependencies (libgit2, zlib) included, so it runs on any Linux with no libc.
# The last stage is distroless/static: no shell, no package manager, just the binary,
# CA certificates and /etc/passwd.
#
# The release workflow builds no binary here: it passes `--build-arg
# KGEN_BINARY=prebuilt` and puts the release's own static binaries (profile-guided,
# scripts/pgo-build.sh) at prebuilt/amd64/kgen and prebuilt/arm64/kgen, so that the
# image holds the very binary of the release archive (same SHA-256) and nothing is
# compiled under emulation. BuildKit builds only the stages the last one needs.
ARG KGEN_BINARY=build

FROM rust:1.95-alpine AS build
RUN apk add --no-cache build-base
WORKDIR /src
COPY . .
# The dist profile (Cargo.toml: release with LTO, no debug info, symbols stripped);
# zlib built from source and linked statically (as libgit2 is: no system libgit2 is
# installed).
# The commit `kgen --version` names (the build context has no .git): the release
# workflow passes it, `docker build --build-arg KGEN_BUILD_COMMIT=$(git rev-parse HEAD)`.
ARG KGEN_BUILD_COMMIT=""
ENV KGEN_BUILD_COMMIT=${KGEN_BUILD_COMMIT} \
    LIBZ_SYS_STATIC=1
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --profile dist --locked --bin kgen \
 && cp target/dist/kgen /usr/local/bin/kgen
# Refuse a dynamically linked binary, and check that it runs.
RUN ! readelf -l /usr/local/bin/kgen | grep -q INTERP \
 && /usr/local/bin/kgen --version

# The release's binary for the platform being built (linux/amd64 or linux/arm64).
FROM scratch AS prebuilt
ARG TARGETARCH
COPY prebuilt/${TARGETARCH}/kgen /usr/local/bin/kgen

FROM ${KGEN_BINARY} AS binary

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=binary /usr/local/bin/kgen /usr/local/bin/kgen
# Argo CD runs its sidecars as user 999 (the `argocd` user); so does this image.
USER 999:999
ENTRYPOINT ["/usr/local/bin/kgen"]
LABEL org.opencontainers.image.title="kgen" \
      org.opencontainers.image.description="GitOps manifest compiler and Argo CD config management plugin" \
      org.opencontainers.image.source="https://github.com/kgen-dev/kgen" \
      org.opencontainers.image.licenses="Apache-2.0"
