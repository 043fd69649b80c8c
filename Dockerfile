# Signet: a static binary on a distroless base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/signet ./cmd/signet

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/signet /usr/local/bin/signet
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/signet"]
CMD ["serve"]
