# syntax=docker/dockerfile:1

# sshchat in a container: a static binary on distroless, run as an
# unprivileged user, with its data in the /data volume.
#
#   docker build -t sshchat .        (or: make docker)
#   docker run -d --name sshchat -p 2222:2222 -v sshchat-data:/data sshchat
#
# docs/deploy.md has the details: environment, logs, backups, upgrades.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/sshchat ./cmd/sshchat
# The final image has no shell to create the data directory: make it here
# and copy it over owned by the runtime user, so that a new named volume
# starts out writable by the server (Docker gives the volume the ownership
# and mode of the directory it is mounted on).
RUN mkdir -p -m 0700 /out/root/data
# The terminfo database, which the image lacks: what the chat sends a
# terminal follows its TERM (without an entry it gets a line-mode chat).
RUN mkdir -p /out/root/usr/share/terminfo && \
    for d in /lib/terminfo /usr/share/terminfo; do \
        if [ -d "$d" ]; then cp -rL "$d/." /out/root/usr/share/terminfo/; fi; \
    done

# distroless/static: CA certificates, time zones and a passwd file with the
# nonroot user (65532), no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sshchat /usr/local/bin/sshchat
COPY --from=build --chown=65532:65532 /out/root/ /
ENV SSHCHAT_DATA=/data SSHCHAT_ADDR=:2222
VOLUME ["/data"]
EXPOSE 2222
USER 65532:65532
# SIGTERM (docker stop) is a graceful stop: every screen is told, the log
# is flushed and fsynced, well within docker's default 10 s grace period.
STOPSIGNAL SIGTERM
# No HEALTHCHECK: Docker runs it inside the container, and this image has
# nothing that could probe the server (no shell, no HTTP client), while
# sshchat has no probe command. A check that only proves the binary can
# start would be a lie. Probe from outside instead: /healthz on
# SSHCHAT_METRICS_ADDR, or the SSH port (see docs/deploy.md).
ENTRYPOINT ["/usr/local/bin/sshchat"]
CMD ["serve"]
