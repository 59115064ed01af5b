# Caddy with bucketgate, built the caddy:builder way from this checkout and
# shipped in the official Caddy image, which runs
# `caddy run --config /etc/caddy/Caddyfile --adapter caddyfile`:
#
#   docker build -t bucketgate .
#   docker run -d -p 80:80 -p 443:443 -p 443:443/udp \
#     -v "$PWD/Caddyfile.production:/etc/caddy/Caddyfile:ro" \
#     -v caddy_data:/data -v caddy_config:/config bucketgate
#
# Keep /data on a volume: it holds the certificates Caddy obtains. The Caddy
# version here is the one go.mod requires (a test checks they agree).
FROM caddy:2.11-builder AS builder
# go.mod may ask for a newer Go than the builder ships; let Go fetch it.
ENV GOTOOLCHAIN=auto
COPY . /src/bucketgate
RUN xcaddy build --with github.com/bucketgate/bucketgate=/src/bucketgate

FROM caddy:2.11
COPY --from=builder /usr/bin/caddy /usr/bin/caddy
