// High availability in the deployment files (issue 14), checked statically like deploy-files.spec.ts: the root
// docker-compose.yml (replicas, the S3-compatible store, start order, nginx in front) and the Helm chart's
// objects for Kubernetes operators (external secrets, migration hook, shutdown timing, restricted pods,
// NetworkPolicy, ServiceMonitor, spread). `docker-compose config` runs when the binary is there (.ci/run
// installs Debian's docker-compose); helm itself is not packaged for Debian, so the chart is read, not rendered.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, serviceConfigSchema } from '@keyhaven/config';
import { PUBLIC_APPS } from '../ha/testbed';
import { guardsOf, manifestKinds } from './helm-static';
import { blocks, directives, parseNginx } from './nginx-conf';
import {
  ROOT,
  SPLIT_SERVICES,
  interpolate,
  isRecord,
  list,
  loadYaml,
  readRepoFile,
  record,
  repoPath,
  scalar,
  strings,
  text,
} from './repo';

// ---------------------------------------------------------------------------------------------------------------
// docker-compose.yml

const compose = record(loadYaml('docker-compose.yml'), 'docker-compose.yml');
const services = record(compose.services, 'services');
const service = (name: string): Record<string, unknown> => record(services[name], `services.${name}`);
const env = (name: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(record(service(name).environment ?? {}, `${name}.environment`)).map(([k, v]) => [
      k,
      v === null ? '' : interpolate(scalar(v, `${name}.environment.${k}`)),
    ]),
  );
const dependsOn = (name: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(record(service(name).depends_on ?? {}, `${name}.depends_on`)).map(([k, v]) => [
      k,
      text(record(v, `${name}.depends_on.${k}`).condition, `${name}.depends_on.${k}.condition`),
    ]),
  );
const replicasOf = (name: string): number => Number(record(service(name).deploy ?? {}, `${name}.deploy`).replicas ?? 1);
const secretsOf = (name: string): string[] =>
  list(service(name).secrets ?? [], `${name}.secrets`).map((s) =>
    isRecord(s) ? text(s.source, 'source') : text(s, 'secret'),
  );

/** Each public service the HA test bed runs twice, and the events processor (a worker, but its jobs must survive). */
const REPLICATED = [...PUBLIC_APPS, 'events-processor'];
const KEYHAVEN = SPLIT_SERVICES.map((s) => s.name);

void describe('docker-compose.yml: high availability', () => {
  void test('two replicas of every public service and of the events processor, none pinned to a name or port', () => {
    for (const name of KEYHAVEN) {
      const expected = REPLICATED.includes(name) ? 2 : 1;
      assert.equal(replicasOf(name), expected, `${name}: deploy.replicas`);
      // Replicas cannot share a container name or a host port.
      assert.equal(service(name).container_name, undefined, `${name} has a container_name`);
      assert.equal(service(name).ports, undefined, `${name} publishes a port`);
    }
    for (const name of ['postgres', 'redis', 'rabbitmq', 'minio', 'migrate', 'minio-bucket', 'nginx']) {
      assert.equal(replicasOf(name), 1, `${name} is replicated`);
    }
  });

  void test('blobs in the bundled S3-compatible store: healthy MinIO, a bucket made once, every service on it', () => {
    const minio = service('minio');
    assert.match(text(minio.image, 'minio.image'), /^minio\/minio:RELEASE\./, 'MinIO pinned to a release');
    assert.ok(isRecord(minio.healthcheck), 'minio has no healthcheck');
    assert.ok(secretsOf('minio').includes('s3_secret_access_key'));
    assert.match(strings(minio.command, 'minio.command').join(' '), /\/run\/secrets\/s3_secret_access_key/);
    const bucket = service('minio-bucket');
    assert.equal(dependsOn('minio-bucket').minio, 'service_healthy');
    assert.equal(bucket.restart, 'no');
    assert.match(strings(bucket.command, 'minio-bucket.command').join(' '), /mc mb --ignore-existing/);
    const networks = record(compose.networks, 'networks');
    for (const name of ['minio', 'minio-bucket']) {
      for (const network of strings(service(name).networks ?? [], `${name}.networks`)) {
        assert.equal(record(networks[network], network).internal, true, `${name} is on a public network`);
      }
    }
    for (const name of KEYHAVEN) {
      const e = env(name);
      assert.equal(e.S3_ENDPOINT, 'http://minio:9000', `${name}: S3_ENDPOINT`);
      assert.equal(e.S3_BUCKET, env('minio-bucket').S3_BUCKET, `${name}: another bucket than the one made`);
      assert.equal(e.S3_ACCESS_KEY_ID, env('minio').MINIO_ROOT_USER, `${name}: another access key than MinIO's`);
      assert.equal(e.S3_SECRET_ACCESS_KEY_FILE, '/run/secrets/s3_secret_access_key');
      assert.ok(secretsOf(name).includes('s3_secret_access_key'), `${name} cannot read the S3 secret`);
      assert.equal(dependsOn(name)['minio-bucket'], 'service_completed_successfully', `${name} may start first`);
    }
    // MinIO refuses a root password under 8 characters; generate.sh must write a real one.
    const dir = mkdtempSync(join(tmpdir(), 'keyhaven-ha-secrets-'));
    try {
      const script = readRepoFile('deploy/secrets/generate.sh');
      const run = spawnSync('sh', ['-s', 'localhost'], {
        input: script.replace('$(dirname "$0")', dir),
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      assert.ok(readFileSync(join(dir, 's3_secret_access_key'), 'utf8').trim().length >= 32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('start order: data stores healthy, then migrations and the bucket, then services healthy, then nginx', () => {
    for (const name of KEYHAVEN) {
      assert.deepEqual(
        dependsOn(name),
        {
          migrate: 'service_completed_successfully',
          postgres: 'service_healthy',
          redis: 'service_healthy',
          rabbitmq: 'service_healthy',
          'minio-bucket': 'service_completed_successfully',
        },
        name,
      );
      assert.match(JSON.stringify(service(name).healthcheck), /\/healthz/, `${name}: no /healthz healthcheck`);
    }
    // nginx waits for every service its configuration proxies to be healthy.
    const conf = parseNginx(readRepoFile('deploy/nginx/keyhaven.conf'));
    const proxied = blocks(conf, 'upstream').flatMap((u) =>
      directives(u.block, 'server').map((s) => (s.args[0] ?? '').split(':')[0] ?? ''),
    );
    assert.ok(proxied.length >= 9, `upstreams not read: ${proxied.join(',')}`);
    const nginx = dependsOn('nginx');
    for (const host of proxied) assert.equal(nginx[host], 'service_healthy', `nginx may start before ${host}`);
    assert.match(strings(service('nginx').volumes, 'nginx.volumes').join(' '), /deploy\/nginx\/keyhaven\.conf:/);
    // Every service_healthy dependency has a healthcheck to wait for, and the order has no cycle.
    const order: string[] = [];
    const visiting = new Set<string>();
    const visit = (name: string): void => {
      if (order.includes(name)) return;
      assert.ok(!visiting.has(name), `dependency cycle through ${name}`);
      visiting.add(name);
      for (const [dependency, condition] of Object.entries(dependsOn(name))) {
        if (condition === 'service_healthy') {
          const check = record(service(dependency).healthcheck ?? {}, `${dependency}.healthcheck`);
          assert.ok(check.test && check.disable !== true, `${name} waits for ${dependency}'s missing healthcheck`);
        }
        visit(dependency);
      }
      visiting.delete(name);
      order.push(name);
    };
    for (const name of Object.keys(services)) visit(name);
    assert.ok(order.indexOf('nginx') > order.indexOf('api') && order.indexOf('api') > order.indexOf('migrate'));
  });

  void test('every Keyhaven service accepts its environment with the S3 store (config schema)', () => {
    for (const { name } of SPLIT_SERVICES) {
      // The secret files are checked in deploy-files.spec.ts; here their values are given directly.
      const e = Object.fromEntries(Object.entries(env(name)).filter(([key]) => !key.endsWith('_FILE')));
      const config = loadConfig(serviceConfigSchema(name), {
        ...e,
        DATABASE_URL: 'postgres://k:s@postgres:5432/k',
        REDIS_URL: 'redis://:s@redis:6379',
        AMQP_URL: 'amqp://k:s@rabbitmq:5672',
        S3_SECRET_ACCESS_KEY: 'secret',
      });
      assert.equal(config.S3_BUCKET, 'keyhaven', name);
    }
  });

  const dockerCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  const composeMissing =
    dockerCompose.error !== undefined || dockerCompose.status !== 0
      ? 'docker-compose is not installed (apt-get install docker-compose; .ci/run installs it)'
      : false;

  void test('docker-compose config accepts both compose files', { skip: composeMissing }, () => {
    for (const file of ['docker-compose.yml', 'deploy/docker-compose.all-in-one.yml']) {
      const run = spawnSync('docker-compose', ['-f', repoPath(file), 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 0, `${file}:\n${run.stdout}${run.stderr}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Helm chart

const CHART = 'helm/keyhaven';
const values = record(loadYaml(`${CHART}/values.yaml`), 'values.yaml');
const templates = new Map(
  readdirSync(repoPath(`${CHART}/templates`)).map((f) => [f, readRepoFile(`${CHART}/templates/${f}`)]),
);
const template = (name: string): string => {
  const source = templates.get(name);
  assert.ok(source !== undefined, `${CHART}/templates/${name} is missing`);
  return source;
};
const valueAt = (path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), values);

void describe('helm/keyhaven: high availability', () => {
  void test('external PostgreSQL, Redis, RabbitMQ and S3 credentials from Secrets of their own', () => {
    for (const setting of ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'S3_SECRET_ACCESS_KEY']) {
      const external = record(valueAt(`secrets.external.${setting}`), `secrets.external.${setting}`);
      assert.deepEqual(Object.keys(external).sort(), ['existingSecret', 'key'], setting);
    }
    const helpers = template('_helpers.tpl');
    // The file a setting is read from is the external Secret's when one is named, for the services and the Job.
    assert.match(helpers, /define "keyhaven\.external"/);
    assert.match(helpers, /value: \/run\/secrets\/keyhaven\/\{\{ include "keyhaven\.secretFile"/);
    assert.match(helpers, /name: \{\{ \$external \}\}/);
    assert.match(template('deployment.yaml'), /projected:[\s\S]*?include "keyhaven\.secretSources"/);
    const job = template('migration-job.yaml');
    assert.match(job, /secretName: \{\{ \$databaseSecret \}\}/);
    assert.match(job, /value: \/run\/secrets\/keyhaven\/\{\{ \$databaseFile \}\}/);
    // A required setting is satisfied by an external Secret, and an external Secret without its key is refused.
    assert.match(helpers, /if not \(include "keyhaven\.external" \(dict "root" \$ "setting" \$setting\)\)/);
    assert.match(helpers, /secrets\.external\.%s\.key must name the key/);
  });

  void test('migrations only in the hook Job: the app pods run with MIGRATE_AT_BOOT=false', () => {
    const deployment = template('deployment.yaml');
    assert.match(deployment, /- name: MIGRATE_AT_BOOT\s+value: "false"/);
    assert.deepEqual(guardsOf(deployment, /name: MIGRATE_AT_BOOT/).slice(-1), ['if $.Values.migration.enabled']);
    assert.equal(valueAt('migration.enabled'), true);
    assert.match(template('migration-job.yaml'), /helm\.sh\/hook: pre-install,pre-upgrade/);
    const config = loadConfig(serviceConfigSchema('api'), {
      DATABASE_URL: 'postgres://k:s@db:5432/k',
      REDIS_URL: 'redis://redis:6379',
      AMQP_URL: 'amqp://k:s@rabbitmq:5672',
      MIGRATE_AT_BOOT: 'false',
    });
    assert.equal(config.MIGRATE_AT_BOOT, false);
  });

  void test('shutdown: preStop, then readiness off with SHUTDOWN_DELAY_MS ~5 s and a drain, inside the grace period', () => {
    const delayMs = Number(valueAt('shutdown.delayMs'));
    const drainMs = Number(valueAt('shutdown.drainMs'));
    assert.ok(delayMs >= 3000 && delayMs <= 10_000, `shutdown.delayMs ${String(delayMs)}`);
    const budget = Number(values.preStopSleepSeconds) + (delayMs + drainMs) / 1000;
    assert.ok(Number(values.terminationGracePeriodSeconds) >= budget + 5, `grace period under ${String(budget + 5)} s`);
    const deployment = template('deployment.yaml');
    assert.match(deployment, /- name: SHUTDOWN_DELAY_MS\s+value: \{\{ \$\.Values\.shutdown\.delayMs \| quote \}\}/);
    assert.match(deployment, /- name: SHUTDOWN_DRAIN_MS\s+value: \{\{ \$\.Values\.shutdown\.drainMs \| quote \}\}/);
    assert.match(
      deployment,
      /preStop:\s+#[^\n]*\n\s+exec:\s+command: \["sleep", "\{\{ \$\.Values\.preStopSleepSeconds \}\}"\]/,
    );
  });

  void test('pods meet the restricted Pod Security Standard', () => {
    const pod = record(values.podSecurityContext, 'podSecurityContext');
    const container = record(values.securityContext, 'securityContext');
    assert.equal(pod.runAsNonRoot, true);
    assert.equal(record(pod.seccompProfile, 'seccompProfile').type, 'RuntimeDefault');
    assert.equal(container.allowPrivilegeEscalation, false);
    assert.equal(container.runAsNonRoot, true);
    assert.deepEqual(record(container.capabilities, 'capabilities').drop, ['ALL']);
    assert.equal(record(container.capabilities, 'capabilities').add, undefined);
    assert.equal(record(container.seccompProfile, 'seccompProfile').type, 'RuntimeDefault');
    for (const [file, source] of templates) {
      assert.doesNotMatch(source, /hostNetwork|hostPID|hostIPC|hostPath|privileged:\s*true|hostPort/, file);
    }
    for (const file of ['deployment.yaml', 'migration-job.yaml']) {
      assert.match(template(file), /securityContext:\s+\{\{- toYaml \$?\.Values\.podSecurityContext/, file);
      assert.match(template(file), /securityContext:\s+\{\{- toYaml \$?\.Values\.securityContext/, file);
    }
  });

  void test('a NetworkPolicy per service: the ingress controller to public ports only, the scraper to /metrics', () => {
    const policy = template('networkpolicy.yaml');
    assert.deepEqual(manifestKinds(policy), [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }]);
    assert.equal(valueAt('networkPolicy.enabled'), true);
    assert.match(policy, /policyTypes:\s+- Ingress/);
    // The public port only for services with a route: the events processor gets the scraper only.
    assert.deepEqual(guardsOf(policy, /- port: http$/).slice(-1), ['if $svc.path']);
    assert.match(policy, /networkPolicy\.ingressNamespaceSelector/);
    assert.match(policy, /networkPolicy\.metricsNamespaceSelector[\s\S]*?- port: management/);
    assert.equal(valueAt('services.events-processor.path'), '');
    assert.ok(isRecord(valueAt('networkPolicy.ingressNamespaceSelector.matchLabels')));
  });

  void test('a ServiceMonitor per service scrapes /metrics on the management port the Service exposes', () => {
    const monitor = template('servicemonitor.yaml');
    assert.deepEqual(manifestKinds(monitor), [{ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' }]);
    assert.deepEqual(guardsOf(monitor, /^kind: ServiceMonitor/)[0], 'if .Values.metrics.serviceMonitor.enabled');
    assert.match(monitor, /- port: management\s+path: \/metrics/);
    assert.match(template('service.yaml'), /- name: management\s+port: \{\{ \$\.Values\.metrics\.port \}\}/);
    assert.match(
      template('deployment.yaml'),
      /- name: management\s+containerPort: \{\{ \$\.Values\.metrics\.port \}\}/,
    );
    assert.equal(typeof valueAt('metrics.serviceMonitor.enabled'), 'boolean');
  });

  void test('replicas spread over hosts and zones; HPA and PDB per service; WebSocket ingress for the hub', () => {
    const deployment = template('deployment.yaml');
    assert.equal(valueAt('topologySpread.topologyKey'), 'kubernetes.io/hostname');
    assert.equal(valueAt('topologySpread.zoneTopologyKey'), 'topology.kubernetes.io/zone');
    assert.equal((deployment.match(/whenUnsatisfiable: ScheduleAnyway/g) ?? []).length, 2);
    assert.deepEqual(manifestKinds(template('hpa.yaml')), [
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
    ]);
    assert.deepEqual(manifestKinds(template('pdb.yaml')), [{ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' }]);
    for (const name of REPLICATED) {
      assert.ok(Number(valueAt(`services.${name}.replicaCount`)) >= 1, name);
      assert.equal(valueAt(`services.${name}.podDisruptionBudget.enabled`), true, name);
    }
    for (const name of PUBLIC_APPS.filter((n) => n === 'api' || n === 'identity' || n === 'notifications')) {
      assert.ok(Number(valueAt(`services.${name}.replicaCount`)) >= 2, `${name} runs one replica`);
    }
    // /notifications/hub is a WebSocket: its Ingress (Prefix /notifications) holds connections for an hour.
    const hubAnnotations = record(valueAt('ingress.notificationsAnnotations'), 'notificationsAnnotations');
    for (const key of ['proxy-read-timeout', 'proxy-send-timeout']) {
      assert.ok(Number(hubAnnotations[`nginx.ingress.kubernetes.io/${key}`]) >= 3600, key);
    }
    assert.ok('/notifications/hub'.startsWith(text(valueAt('services.notifications.path'), 'notifications.path')));
    assert.match(template('ingress.yaml'), /ingress\.notificationsAnnotations/);
  });
});
