// The peer workload of scripts/bench-peer.sh for jrsonnet: the same platform as
// scripts/gen-platform.py N (N services x dev, staging, prod), rendered to one YAML
// stream per service and environment (ServiceAccount with an IRSA role on every third
// service, ConfigMap, SecretProviderClass on every third, Service, Deployment, HPA)
// plus an ApplicationSet per environment. No validation: a floor for the compile.
//
//   jrsonnet --ext-code n=1000 -S -c -m OUT benches/peer/platform.jsonnet
local n = std.extVar('n');
local envs = [
  { name: 'dev', account: '111111111111', e: 0 },
  { name: 'staging', account: '222222222222', e: 1 },
  { name: 'prod', account: '333333333333', e: 2 },
];
local registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
local pad(i) = std.format('%05d', i);

local service(env, i) =
  local s = 'svc-' + pad(i);
  local peer = 'svc-' + pad((i + 1) % n);
  local labels = {
    'app.kubernetes.io/name': s,
    'app.kubernetes.io/instance': s + '-' + env.name,
    'app.kubernetes.io/version': '1.%d.%d' % [env.e, i % 50],
    'app.kubernetes.io/managed-by': 'kgen',
  };
  local meta(kind) = { name: s, namespace: s, labels: labels };
  local secrets = i % 3 == 0;
  local autoscaling = if env.name == 'prod' then { min: 3, max: 10 } else { min: 2, max: 5 };
  [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta('ServiceAccount') + (if secrets then {
        annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::%s:role/%s-%s' % [env.account, env.name, s] },
      } else {}),
      automountServiceAccountToken: false,
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta('ConfigMap') { name: s + '-config' },
      data: { ENVIRONMENT: env.name, SERVICE: s, DOMAIN: s + '.' + env.name + '.acme.io' },
    },
  ] + (if secrets then [{
         apiVersion: 'secrets-store.csi.x-k8s.io/v1',
         kind: 'SecretProviderClass',
         metadata: meta('SecretProviderClass') { name: s + '-secrets' },
         spec: {
           provider: 'aws',
           parameters: {
             objects: std.manifestYamlDoc([
               { objectName: env.name + '/' + s + '/db', objectType: 'secretsmanager', jmesPath: [{ path: 'password', objectAlias: 'db-password' }] },
               { objectName: '/' + env.name + '/' + s + '/endpoint', objectType: 'ssmparameter', objectAlias: 'api-endpoint' },
             ]),
           },
           secretObjects: [{
             secretName: s + '-secrets',
             type: 'Opaque',
             data: [{ key: k, objectName: k } for k in ['db-password', 'api-endpoint']],
           }],
         },
       }] else []) + [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('Service'),
      spec: { selector: { 'app.kubernetes.io/name': s }, ports: [{ name: 'http', port: 80, targetPort: 8000, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('Deployment'),
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': s } },
        template: {
          metadata: { labels: labels },
          spec: {
            serviceAccountName: s,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: s,
              image: '%s/acme/%s:1.%d.%d' % [registry, s, env.e, i % 50],
              ports: [{ name: 'http', containerPort: 8000 }],
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'PEER_URL', value: 'http://%s.%s.svc.cluster.local:8000' % [peer, peer] },
              ],
              envFrom: [{ configMapRef: { name: s + '-config' } }],
              livenessProbe: { httpGet: { path: '/health', port: 'http' } },
              readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            }],
          },
        },
      },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: meta('HorizontalPodAutoscaler'),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: s },
        minReplicas: autoscaling.min,
        maxReplicas: autoscaling.max,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    },
  ];

local appset(env) = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'ApplicationSet',
  metadata: { name: env.name, namespace: 'argocd' },
  spec: {
    generators: [{ git: { repoURL: 'https://github.com/acme/bench.git', revision: 'HEAD', directories: [{ path: 'generated/' + env.name + '/*' }] } }],
    template: {
      metadata: { name: env.name + '-{{path.basename}}' },
      spec: {
        project: env.name,
        source: { repoURL: 'https://github.com/acme/bench.git', targetRevision: 'HEAD', path: '{{path}}' },
        destination: { server: 'https://' + env.name + '.k8s.acme.io', namespace: '{{path.basename}}' },
      },
    },
  },
};

{
  [env.name + '/svc-' + pad(i) + '.yaml']: std.manifestYamlStream(service(env, i), quote_keys=false)
  for env in envs
  for i in std.range(0, n - 1)
} + {
  ['argocd/' + env.name + '.yaml']: std.manifestYamlDoc(appset(env), quote_keys=false)
  for env in envs
}
