#!/usr/bin/env bash
# bench/protobuf-libs/setup.sh [DIR] - builds the scratch folder the protobuf benchmark imports from
# (default /tmp/pbbench): installs the libraries and code generators THERE (never into gamewire) and
# generates the code of proto/protocol.proto with both generators. Idempotent; needs the npm registry.
set -euo pipefail
DIR="${1:-/tmp/pbbench}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

mkdir -p "$DIR/proto" "$DIR/gen/es" "$DIR/gen/pbjs"
cd "$DIR"
[ -f package.json ] || npm init -y >/dev/null
npm pkg set type=module          # the generated .js files of both generators are ES modules
npm install --no-audit --no-fund \
  protobufjs@8.8.1 protobufjs-cli@2.7.1 \
  @bufbuild/protobuf@2.17.0 @bufbuild/protoc-gen-es@2.17.0 @bufbuild/buf@1.75.0
cp "$REPO/proto/protocol.proto" proto/

# protoc-gen-es through buf (the buf binary ships in the npm package @bufbuild/buf-linux-x64).
cat > buf.gen.yaml <<'EOF'
version: v2
inputs:
  - directory: proto
plugins:
  - local: protoc-gen-es
    out: gen/es
    opt: target=js
EOF
npx buf generate                                   # -> gen/es/protocol_pb.js

# protobufjs static code.
npx pbjs -t static-module -w es6 -o gen/pbjs/protocol.js proto/protocol.proto

ls -l gen/es gen/pbjs
