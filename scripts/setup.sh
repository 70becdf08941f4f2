#!/usr/bin/env bash
# Installs everything flinkops' local stack and tests need, from the package registries only:
#   npm packages, the Temporal CLI, the Kubernetes control plane, a Compose file checker, Helm and promtool (built from
#   the Go module proxy), Flink distributions (PyPI: apache-flink-libraries), the fixture jobs, Temporal's time-skipping
#   test server, the Flink Kubernetes Operator and ZooKeeper (Maven Central), then builds the project and writes the
#   class-data-sharing archives the local stack's Flink JVMs start from.
# Every step is cached (FLINKOPS_CACHE_DIR, default ~/.cache/flinkops); a second run takes seconds.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${FLINKOPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/flinkops}"
temporal_cli_version="1.5.1"
temporal_test_server_version="1.31.0"
zookeeper_version="3.9.5"
helm_version="4.3.2"
prometheus_version="0.316.0"
flink_versions=(1.20.5 2.2.1)
mkdir -p "$cache/bin" "$cache/flink"

step() {
  local name="$1"; shift
  local started=$SECONDS
  "$@"
  printf 'setup: %-28s %4ss\n' "$name" "$((SECONDS - started))"
}

require() {
  command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is required ($2)" >&2; exit 1; }
}

check_toolchains() {
  require node "Node.js >= 20.19"; require npm "npm"; require go "Go >= 1.25"
  require java "Java 17"; require mvn "Maven 3"; require python3 "Python 3 with pip"; require openssl "OpenSSL"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("setup: Node.js >= 20.19 is required, found "+process.versions.node); process.exit(1) }'
}

npm_dependencies() {
  local stamp="$repo/node_modules/.flinkops-lock-sha256" want
  want="$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  # `npm install`, not `npm ci`: npm 11 leaves other platforms' optional packages out of the lock file it writes
  # and then `npm ci` refuses that same lock file (npm/cli#8320). `install` honours the locked versions.
  (cd "$repo" && npm install --no-audit --no-fund --loglevel=error)
  sha256sum "$repo/package-lock.json" | cut -d' ' -f1 > "$stamp"
}

temporal_cli() {
  local target="$cache/bin/temporal-$temporal_cli_version"
  [[ -x "$target" ]] && return
  local gobin; gobin="$(mktemp -d)"
  GOBIN="$gobin" go install "github.com/temporalio/cli/cmd/temporal@v$temporal_cli_version"
  mv "$gobin/temporal" "$target"; rm -rf "$gobin"
}

temporal_test_server() {
  # Temporal's time-skipping test server (TestWorkflowEnvironment.createTimeSkipping, test/support/time-skipping.ts):
  # the SDK downloads it from a host that is unreachable here, so resolve io.temporal:temporal-test-server and its
  # dependencies from Maven Central instead. The SDK runs `<executable> <port> [extraArgs...]`, waits at most 5 s for
  # the port and stops it with SIGKILL, hence `exec` (a killed shell would leave the JVM behind).
  local target="$cache/temporal-test-server/$temporal_test_server_version" wrapper="$cache/bin/temporal-test-server"
  if [[ ! -f "$target/temporal-test-server-$temporal_test_server_version.jar" ]]; then
    local project; project="$(mktemp -d)"
    cat > "$project/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>flinkops.setup</groupId>
  <artifactId>temporal-test-server</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$temporal_test_server_version</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.8.1</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
    rm -rf "$target.partial"
    mvn -B -q -Dstyle.color=never -f "$project/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$target.partial"
    rm -rf "$project" "$target"; mv "$target.partial" "$target"
  fi
  local classpath; classpath="$(printf '%q' "$target/*")"
  cat > "$wrapper.partial" <<EOF
#!/usr/bin/env bash
# Written by scripts/setup.sh: Temporal's time-skipping test server $temporal_test_server_version (Maven Central).
# C1 only: every workflow test file starts one, and C2 compiling costs more CPU than it saves in a test's lifetime.
exec java -XX:TieredStopAtLevel=1 -cp $classpath io.temporal.testserver.TestServer "\$@"
EOF
  chmod +x "$wrapper.partial"; mv "$wrapper.partial" "$wrapper"
}

kube_control_plane() {
  # etcd, kube-apiserver and kube-controller-manager from one wrapper module (test/kube/control-plane) that pins
  # every k8s.io staging module; keyed by the module's go.sum so a version bump rebuilds.
  local module="$repo/test/kube/control-plane" key target
  key="$(cat "$module/go.mod" "$module/go.sum" "$module/cmd/etcd/main.go" | sha256sum | cut -c1-12)"
  target="$cache/kube/$key"
  if [[ -x "$target/kube-apiserver" && -x "$target/kube-controller-manager" && -x "$target/etcd" ]]; then
    ln -sfn "$target" "$cache/kube/current"; return
  fi
  local version; version="$(sed -n 's/^\s*k8s.io\/kubernetes v\(.*\)$/\1/p' "$module/go.mod" | head -1)"
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$version -X k8s.io/client-go/pkg/version.gitVersion=v$version"
  mkdir -p "$target.partial"
  (cd "$module" && go build -trimpath -ldflags "$ldflags" -o "$target.partial/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager ./cmd/etcd)
  rm -rf "$target"; mv "$target.partial" "$target"
  ln -sfn "$target" "$cache/kube/current"
}

compose_check() {
  # Validates docker-compose.yml without a Docker engine (compose-go, the library Docker Compose uses), for
  # test/unit/container-files.test.ts; keyed by its module files so a version bump rebuilds.
  local module="$repo/test/tools/compose-check" key target
  key="$(cat "$module/go.mod" "$module/go.sum" "$module/main.go" | sha256sum | cut -c1-12)"
  target="$cache/bin/compose-check-$key"
  if [[ ! -x "$target" ]]; then
    (cd "$module" && go build -trimpath -ldflags "-s -w" -o "$target.partial" .)
    mv "$target.partial" "$target"
  fi
  ln -sfn "$target" "$cache/bin/compose-check"
}

go_tool() {
  # One Go binary built from the Go module proxy, cached by version: go_tool NAME VERSION PACKAGE [LDFLAGS].
  local name="$1" version="$2" package="$3" ldflags="${4:-}" target="$cache/bin/$1-$2"
  if [[ ! -x "$target" ]]; then
    local gobin; gobin="$(mktemp -d)"
    GOBIN="$gobin" go install -trimpath -ldflags "-s -w $ldflags" "$package@v$version"
    mv "$gobin/$(basename "$package")" "$target"; rm -rf "$gobin"
  fi
  ln -sfn "$target" "$cache/bin/$name"
}

helm_cli() {
  # Renders and lints deploy/helm/flinkops in the tests (test/unit/helm-chart.test.ts, test/e2e/helm-chart.test.ts).
  go_tool helm "$helm_version" helm.sh/helm/v4/cmd/helm "-X helm.sh/helm/v4/internal/version.version=v$helm_version"
}

promtool_cli() {
  # Checks and unit-tests the alert rules (test/unit/alerts.test.ts: `promtool test rules`).
  go_tool promtool "$prometheus_version" github.com/prometheus/prometheus/cmd/promtool \
    "-X github.com/prometheus/common/version.Version=$prometheus_version"
}

flink_distribution() {
  local version="$1" target="$cache/flink/$1"
  [[ -f "$target/lib/flink-dist-$version.jar" && -f "$target/bin/bash-java-utils.jar" ]] && return
  local download; download="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --no-binary :all: "apache-flink-libraries==$version" -d "$download"
  rm -rf "$target.partial"; mkdir -p "$target.partial"
  tar -xzf "$download"/apache_flink_libraries-*.tar.gz -C "$target.partial" --strip-components=2 \
    "apache_flink_libraries-$version/deps/lib" "apache_flink_libraries-$version/deps/bin" \
    "apache_flink_libraries-$version/deps/opt" "apache_flink_libraries-$version/deps/plugins"
  rm -rf "$download" "$target"; mv "$target.partial" "$target"
}

flink_distributions() {
  for version in "${flink_versions[@]}"; do flink_distribution "$version"; done
}

fixture_jobs() {
  local project="$repo/test/fixtures/flink-job" stamp want
  stamp="$project/target/.sources-sha256"
  want="$(find "$project/pom.xml" "$project/src" -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  mvn -B -q -Dstyle.color=never -f "$project/pom.xml" package
  echo "$want" > "$stamp"
}

flink_operator() {
  # The Flink Kubernetes Operator's runtime classpath and its CRDs (the FlinkStateSnapshot CRD from the 1.10.0 API
  # jar), keyed by the pom so a version bump re-resolves.
  local pom="$repo/test/kube/operator/pom.xml" key target
  key="$(sha256sum "$pom" | cut -c1-12)"
  target="$cache/flink-operator/$key"
  if [[ ! -f "$target/.complete" ]]; then
    rm -rf "$target.partial"; mkdir -p "$target.partial/lib" "$target.partial/crds"
    mvn -B -q -f "$pom" dependency:copy-dependencies -DoutputDirectory="$target.partial/lib" -DincludeScope=runtime
    mvn -B -q -f "$pom" dependency:copy -Dartifact=org.apache.flink:flink-kubernetes-operator-api:1.10.0 -DoutputDirectory="$target.partial/api"
    (cd "$target.partial/crds" && jar xf "$target.partial/lib/flink-kubernetes-operator-api-1.7.0.jar" META-INF/fabric8 \
      && jar xf "$target.partial"/api/flink-kubernetes-operator-api-1.10.0.jar META-INF/fabric8/flinkstatesnapshots.flink.apache.org-v1.yml \
      && mv META-INF/fabric8/*-v1.yml . && rm -rf META-INF)
    touch "$target.partial/.complete"
    rm -rf "$target"; mv "$target.partial" "$target"
  fi
  ln -sfn "$target" "$cache/flink-operator/current"
}

zookeeper_server() {
  # A real ZooKeeper for Flink's ZooKeeper high availability (test/stack/zookeeper.ts starts it on loopback):
  # org.apache.zookeeper:zookeeper and its runtime dependencies from Maven Central, run as ZooKeeperServerMain.
  local target="$cache/zookeeper/$zookeeper_version"
  [[ -f "$target/.complete" ]] && return
  local project; project="$(mktemp -d)"
  cat > "$project/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>flinkops.setup</groupId>
  <artifactId>zookeeper</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.zookeeper</groupId>
      <artifactId>zookeeper</artifactId>
      <version>$zookeeper_version</version>
    </dependency>
    <!-- what ZooKeeper's own distribution adds to its lib/ (optional or provided in its POM): logging for the
         server log and its audit log, and the metrics and snapshot libraries the server needs to start -->
    <dependency>
      <groupId>ch.qos.logback</groupId>
      <artifactId>logback-classic</artifactId>
      <version>1.3.15</version>
    </dependency>
    <dependency>
      <groupId>io.dropwizard.metrics</groupId>
      <artifactId>metrics-core</artifactId>
      <version>4.1.12.1</version>
    </dependency>
    <dependency>
      <groupId>org.xerial.snappy</groupId>
      <artifactId>snappy-java</artifactId>
      <version>1.1.10.5</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.8.1</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF
  rm -rf "$target.partial"
  mvn -B -q -Dstyle.color=never -f "$project/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$target.partial"
  touch "$target.partial/.complete"
  rm -rf "$project" "$target"; mkdir -p "$cache/zookeeper"; mv "$target.partial" "$target"
}

flink_class_archives() {
  # Class-data-sharing archives that let the local stack's Flink JVMs start on less CPU (test/stack/flink/jvm-options.ts);
  # one per Flink version and JDK build, written by a JobManager started once.
  node "$repo/dist/test/stack/flink/class-archive.js" "$cache"
}

build_project() {
  (cd "$repo" && npm run --silent build)
}

started=$SECONDS
step toolchains check_toolchains
step npm-dependencies npm_dependencies
step temporal-cli temporal_cli
step flink-distributions flink_distributions
step fixture-jobs fixture_jobs
step kube-control-plane kube_control_plane
step compose-check compose_check
step helm helm_cli
step promtool promtool_cli
step temporal-test-server temporal_test_server
step flink-operator flink_operator
step zookeeper zookeeper_server
step build build_project
step flink-class-archives flink_class_archives
echo "setup: done in $((SECONDS - started))s (cache: $cache)"
