# Production image: one static binary, no shell, running as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/aimsg ./cmd/aimsg
# The media folder, owned by the user that runs: a volume mounted there
# starts with its owner.
RUN mkdir -p /out/data/media

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/aimsg /usr/local/bin/aimsg
COPY --from=build --chown=nonroot:nonroot /out/data /data
WORKDIR /home/nonroot
USER nonroot:nonroot
ENV AI_MESSAGE_HOST=0.0.0.0 \
    AI_MESSAGE_PORT=8000 \
    AI_MESSAGE_LOGS_FOLDER=/home/nonroot/logs \
    MEDIA_DIR=/data/media
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["aimsg", "health"]
ENTRYPOINT ["aimsg"]
CMD ["serve"]
