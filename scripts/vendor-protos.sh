#!/usr/bin/env bash
# Refreshes proto/vendor from the jars published on Maven Central (see proto/vendor/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="${HOME}/.m2/repository"
fetch() { mvn -q dependency:get -Dartifact="$1" -Dtransitive=false; }
fetch build.buf:protovalidate:1.3.0
fetch com.google.api.grpc:proto-google-common-protos:2.54.1
unzip -o -q -j "$repo/build/buf/protovalidate/1.3.0/protovalidate-1.3.0.jar" \
  buf/validate/validate.proto -d proto/vendor/buf/validate
unzip -o -q -j "$repo/com/google/api/grpc/proto-google-common-protos/2.54.1/proto-google-common-protos-2.54.1.jar" \
  google/api/http.proto google/api/annotations.proto google/api/field_behavior.proto -d proto/vendor/google/api
