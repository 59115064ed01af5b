# Caddy with bucketgate, built from this checkout with the script .ci/run
# builds and checks it with (deploy/xcaddy-build: xcaddy, Caddy's standard
# modules and the gateway, no emulators), in the official Caddy image, which
# runs `caddy run --config /etc/caddy/Caddyfile --adapter caddyfile`. The
# image holds deploy/Caddyfile there, a B2 gateway in gateway mode, which
# reads these variables (docs/deployment.md says what each is):
#
#   docker build -t bucketgate .
#   docker run -d --name bucketgate -p 80:80 -p 443:443 -p 443:443/udp \
#     -e BUCKETGATE_DOMAIN -e BUCKETGATE_SIGNING_SECRET \
#     -e PLATFORM_ADMIN_SECRET -e CI_DEPLOYER_SECRET \
#     -e B2_KEY_ID -e B2_APPLICATION_KEY \
#     -v "$PWD/deploy/Caddyfile:/etc/caddy/Caddyfile:ro" \
#     -v caddy_data:/data -v caddy_config:/config bucketgate
#
# The mount is optional: it lets `docker exec bucketgate caddy reload
# --config /etc/caddy/Caddyfile` apply an edited copy. Keep /data on a
# volume: it holds the certificates Caddy obtains. The Caddy version here is
# the minor version go.mod requires (a test checks they agree); the script
# builds the exact one.
FROM caddy:2.11-builder AS builder
# go.mod may ask for a newer Go than the builder ships; let Go fetch it.
ENV GOTOOLCHAIN=auto
COPY . /src/bucketgate
RUN /src/bucketgate/deploy/xcaddy-build /src/bucketgate /usr/bin/caddy

FROM caddy:2.11
COPY --from=builder /usr/bin/caddy /usr/bin/caddy
COPY deploy/Caddyfile /etc/caddy/Caddyfile
