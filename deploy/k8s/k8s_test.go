// Package k8s holds the hub's Kubernetes manifests (base/, overlays/) and
// this test, which builds the example overlay as kubectl apply -k would and
// decodes every object strictly into its Go type: a misspelled field, a
// wrong type or an unknown kind fails CI instead of a deployment. It then
// checks what the hub needs of them against the hub's own code and config.
package k8s

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cnpgv1 "github.com/cloudnative-pg/cloudnative-pg/api/v1"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	rabbitmqv1beta1 "github.com/rabbitmq/cluster-operator/v2/api/v1beta1"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/korpu-az/korpu/cmd/korpu/config"
	"github.com/korpu-az/korpu/routers/catalogue"
)

const overlay = "overlays/example"

// kinds are the only objects the manifests may hold, each with its Go type:
// Kubernetes' own and the operators' published API packages.
var kinds = map[string]func() any{
	"apps/v1 Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1 Service":                             func() any { return &corev1.Service{} },
	"v1 ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1 Secret":                              func() any { return &corev1.Secret{} },
	"v1 Namespace":                           func() any { return &corev1.Namespace{} },
	"policy/v1 PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1 NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
	"keda.sh/v1alpha1 ScaledObject":          func() any { return &kedav1alpha1.ScaledObject{} },
	"keda.sh/v1alpha1 TriggerAuthentication": func() any { return &kedav1alpha1.TriggerAuthentication{} },
	"rabbitmq.com/v1beta1 RabbitmqCluster":   func() any { return &rabbitmqv1beta1.RabbitmqCluster{} },
	"postgresql.cnpg.io/v1 Cluster":          func() any { return &cnpgv1.Cluster{} },
}

// decode reads one built object strictly, as the API server does: a field
// its type does not have (names match case-sensitively, unlike
// encoding/json's), a field given twice or a kind not in kinds is an error.
func decode(gvk string, doc []byte) (any, error) {
	mk, ok := kinds[gvk]
	if !ok {
		return nil, fmt.Errorf("unknown kind %s", gvk)
	}
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", gvk, err)
	}
	obj := mk()
	strict, err := kjson.UnmarshalStrict(data, obj)
	if err = errors.Join(append([]error{err}, strict...)...); err != nil {
		return nil, fmt.Errorf("%s: %w", gvk, err)
	}
	return obj, nil
}

// built is the example overlay's objects, each decoded, with its source.
type built struct {
	objects []any
	docs    map[string]source // by "Kind/name"
}

type source struct {
	gvk  string
	yaml []byte
}

func build(t *testing.T) built {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), overlay)
	require.NoError(t, err)
	b := built{docs: map[string]source{}}
	for _, r := range resources.Resources() {
		doc, err := r.AsYAML()
		require.NoError(t, err)
		obj, err := decode(r.GetApiVersion()+" "+r.GetKind(), doc)
		require.NoError(t, err, "%s/%s", r.GetKind(), r.GetName())
		b.objects = append(b.objects, obj)
		b.docs[r.GetKind()+"/"+r.GetName()] = source{r.GetApiVersion() + " " + r.GetKind(), doc}
	}
	return b
}

// only is the one object of type T; the manifests hold one of each kind
// the hub's checks look at.
func only[T any](t *testing.T, b built) T {
	t.Helper()
	var found []T
	for _, o := range b.objects {
		if v, ok := o.(T); ok {
			found = append(found, v)
		}
	}
	require.Len(t, found, 1, "%T", *new(T))
	return found[0]
}

func named[T interface{ GetName() string }](t *testing.T, b built, name string) T {
	t.Helper()
	for _, o := range b.objects {
		if v, ok := o.(T); ok && v.GetName() == name {
			return v
		}
	}
	require.Failf(t, "missing object", "%T %s", *new(T), name)
	panic("unreachable")
}

// selects fails unless sel selects the pods' labels.
func selects(t *testing.T, sel *metav1.LabelSelector, pods map[string]string, what string) {
	t.Helper()
	require.NotNil(t, sel, what)
	s, err := metav1.LabelSelectorAsSelector(sel)
	require.NoError(t, err, what)
	require.False(t, s.Empty(), "%s selects everything", what)
	require.True(t, s.Matches(labels.Set(pods)), "%s does not select the hub's pods", what)
}

// hubSource is a file of the hub's own code, read to check the manifests
// against what it serves and how long it takes to stop.
func hubSource(t *testing.T, path string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", path))
	require.NoError(t, err)
	return string(src)
}

// env is what the hub's container sees: the generated Secret's values,
// and for each variable an operator's Secret supplies, a value of the shape
// that operator writes.
func env(t *testing.T, b built, c corev1.Container) map[string]string {
	t.Helper()
	made := map[string]string{
		"korpu-rabbitmq-default-user/connection_string": "amqp://default_user_x:pw@korpu-rabbitmq.korpu.svc:5672/",
		"korpu-db-app/uri": "postgresql://korpu:pw@korpu-db-rw.korpu:5432/korpu",
	}
	vars := map[string]string{}
	for _, from := range c.EnvFrom {
		require.NotNil(t, from.SecretRef, "envFrom takes Secrets only")
		for k, v := range named[*corev1.Secret](t, b, from.SecretRef.Name).Data {
			vars[from.Prefix+k] = string(v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			vars[e.Name] = e.Value
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		require.NotNil(t, ref, "env %s", e.Name)
		v, ok := made[ref.Name+"/"+ref.Key]
		require.True(t, ok, "env %s: no operator makes Secret %s key %s", e.Name, ref.Name, ref.Key)
		vars[e.Name] = v
	}
	return vars
}

func TestOverlay(t *testing.T) {
	t.Parallel()
	b := build(t)
	deploy := only[*appsv1.Deployment](t, b)
	pod := deploy.Spec.Template
	require.Len(t, pod.Spec.Containers, 1)
	hub := pod.Spec.Containers[0]

	// The operator's file, read by the hub's own config package with the
	// environment the container gets.
	var mount *corev1.VolumeMount
	for i, m := range hub.VolumeMounts {
		if m.Name == "config" {
			mount = &hub.VolumeMounts[i]
		}
	}
	require.NotNil(t, mount)
	require.Equal(t, []string{"serve", "--config", mount.MountPath + "/korpu.yaml"}, hub.Args)
	vol := pod.Spec.Volumes[slices.IndexFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == "config" })]
	require.NotNil(t, vol.ConfigMap)
	file, ok := named[*corev1.ConfigMap](t, b, vol.ConfigMap.Name).Data["korpu.yaml"]
	require.True(t, ok)
	vars := env(t, b, hub)
	cfg, err := config.Parse([]byte(file), func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, catalogue.Default().Codes())
	require.NoError(t, err)
	for k := range named[*corev1.Secret](t, b, hub.EnvFrom[0].SecretRef.Name).Data {
		require.Contains(t, file, "${"+k+"}", "Secret key %s is used by no setting", k)
	}

	t.Run("Deployment", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, int32(3), *deploy.Spec.Replicas)
		selects(t, deploy.Spec.Selector, pod.Labels, "Deployment selector")

		// Probes on the port the hub listens on, at paths it serves.
		_, port, err := net.SplitHostPort(cfg.HTTP.Listen)
		require.NoError(t, err)
		require.Len(t, hub.Ports, 1)
		require.Equal(t, port, strconv.Itoa(int(hub.Ports[0].ContainerPort)))
		routes := hubSource(t, "adapters/httpapi/httpapi.go")
		for _, p := range []struct {
			path  string
			probe *corev1.Probe
		}{{"/healthz", hub.StartupProbe}, {"/healthz", hub.LivenessProbe}, {"/readyz", hub.ReadinessProbe}} {
			require.NotNil(t, p.probe, p.path)
			require.Equal(t, p.path, p.probe.HTTPGet.Path)
			require.Equal(t, hub.Ports[0].Name, p.probe.HTTPGet.Port.String())
			require.Contains(t, routes, `"GET `+p.path+`"`, "the hub serves no %s", p.path)
		}

		// Locked down: non-root, nothing writable but /tmp, no capabilities.
		psc, sc := pod.Spec.SecurityContext, hub.SecurityContext
		require.True(t, *psc.RunAsNonRoot)
		require.NotZero(t, *psc.RunAsUser)
		require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)
		require.True(t, *sc.ReadOnlyRootFilesystem)
		require.False(t, *sc.AllowPrivilegeEscalation)
		require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
		require.Empty(t, sc.Capabilities.Add)
		tmp := slices.IndexFunc(hub.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/tmp" })
		require.GreaterOrEqual(t, tmp, 0, "/tmp is not writable")
		tmpVol := slices.IndexFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == hub.VolumeMounts[tmp].Name })
		require.NotNil(t, pod.Spec.Volumes[tmpVol].EmptyDir)

		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, lim := hub.Resources.Requests[r], hub.Resources.Limits[r]
			require.Positive(t, req.Cmp(resource.Quantity{}), "request %s", r)
			require.GreaterOrEqual(t, lim.Cmp(req), 0, "limit %s below its request", r)
		}

		// Grace covers the preStop pause and the hub's own shutdown budget.
		m := regexp.MustCompile(`const shutdownBudget = (\d+) \* time\.Second`).FindStringSubmatch(hubSource(t, "cmd/korpu/wiring.go"))
		require.NotNil(t, m, "shutdownBudget not found in cmd/korpu/wiring.go")
		budget, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		preStop := time.Duration(hub.Lifecycle.PreStop.Sleep.Seconds) * time.Second
		grace := time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
		require.Greater(t, grace, preStop+time.Duration(budget)*time.Second)

		keys := map[string]bool{}
		for _, c := range pod.Spec.TopologySpreadConstraints {
			selects(t, c.LabelSelector, pod.Labels, "topology spread")
			keys[c.TopologyKey] = true
		}
		require.Equal(t, map[string]bool{"topology.kubernetes.io/zone": true, "kubernetes.io/hostname": true}, keys)
	})

	t.Run("PodDisruptionBudget", func(t *testing.T) {
		t.Parallel()
		pdb := only[*policyv1.PodDisruptionBudget](t, b)
		selects(t, pdb.Spec.Selector, pod.Labels, "PodDisruptionBudget")
		require.Equal(t, 1, pdb.Spec.MaxUnavailable.IntValue())
	})

	t.Run("Service", func(t *testing.T) {
		t.Parallel()
		svc := only[*corev1.Service](t, b)
		selects(t, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, pod.Labels, "Service")
		require.Len(t, svc.Spec.Ports, 1)
		require.Equal(t, hub.Ports[0].Name, svc.Spec.Ports[0].TargetPort.String())
	})

	t.Run("NetworkPolicy", func(t *testing.T) {
		t.Parallel()
		np := only[*networkingv1.NetworkPolicy](t, b)
		selects(t, &np.Spec.PodSelector, pod.Labels, "NetworkPolicy")
		require.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes)
		require.Len(t, np.Spec.Ingress, 1)
		require.Equal(t, hub.Ports[0].Name, np.Spec.Ingress[0].Ports[0].Port.String())
		var out []int
		for _, e := range np.Spec.Egress {
			for _, p := range e.Ports {
				out = append(out, p.Port.IntValue())
			}
		}
		// RabbitMQ, PostgreSQL, DNS, and HTTPS to the registry and districts.
		for _, port := range []int{5672, 5432, 53, 443} {
			require.Contains(t, out, port)
		}
	})

	t.Run("ScaledObject", func(t *testing.T) {
		t.Parallel()
		so := only[*kedav1alpha1.ScaledObject](t, b)
		require.Equal(t, "Deployment", so.Spec.ScaleTargetRef.Kind)
		require.Equal(t, deploy.Name, so.Spec.ScaleTargetRef.Name)
		require.Equal(t, *deploy.Spec.Replicas, *so.Spec.MinReplicaCount)
		require.Greater(t, *so.Spec.MaxReplicaCount, *so.Spec.MinReplicaCount)
		ta := only[*kedav1alpha1.TriggerAuthentication](t, b)
		rmq := only[*rabbitmqv1beta1.RabbitmqCluster](t, b)
		require.Equal(t, []kedav1alpha1.AuthSecretTargetRef{{Parameter: "host", Name: rmq.Name + "-default-user", Key: "connection_string"}}, ta.Spec.SecretTargetRef)

		// The queues the hub consumes work from, by the hub's own names.
		want := []string{cfg.Portal.RequestsQueue}
		for _, d := range cfg.Districts {
			want = append(want, cfg.Hub.DistrictQueuePrefix+d.Code)
		}
		var got []string
		for _, tr := range so.Spec.Triggers {
			require.Equal(t, "rabbitmq", tr.Type)
			require.Equal(t, ta.Name, tr.AuthenticationRef.Name)
			require.Equal(t, "QueueLength", tr.Metadata["mode"])
			_, err := strconv.Atoi(tr.Metadata["value"])
			require.NoError(t, err)
			got = append(got, tr.Metadata["queueName"])
		}
		require.ElementsMatch(t, want, got)
	})

	t.Run("RabbitmqCluster", func(t *testing.T) {
		t.Parallel()
		rmq := only[*rabbitmqv1beta1.RabbitmqCluster](t, b)
		require.Equal(t, int32(3), *rmq.Spec.Replicas)
		require.Contains(t, strings.Split(rmq.Spec.Rabbitmq.AdditionalConfig, "\n"), "consumer_timeout = 1800000")
		require.Contains(t, hub.Env, corev1.EnvVar{Name: "KORPU_AMQP_URL", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: rmq.Name + "-default-user"}, Key: "connection_string"}}})
	})

	t.Run("PostgresCluster", func(t *testing.T) {
		t.Parallel()
		db := only[*cnpgv1.Cluster](t, b)
		require.Equal(t, 3, db.Spec.Instances)
		sync := db.Spec.PostgresConfiguration.Synchronous
		require.NotNil(t, sync, "no synchronous replication")
		require.GreaterOrEqual(t, sync.Number, 1)
		require.Equal(t, cnpgv1.DataDurabilityLevelRequired, sync.DataDurability)
		require.NotEmpty(t, db.Spec.StorageConfiguration.Size)
		require.Equal(t, "korpu", db.Spec.Bootstrap.InitDB.Database)
		require.Contains(t, hub.Env, corev1.EnvVar{Name: "KORPU_POSTGRES_URL", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: db.Name + "-app"}, Key: "uri"}}})
	})

	// The decoding bites: each built object with one field misspelled, and
	// a kind no one knows, must fail.
	t.Run("StrictDecoding", func(t *testing.T) {
		t.Parallel()
		for name, typo := range map[string][2]string{
			"Deployment/korpu":                     {"readinessProbe:", "readinesProbe:"},
			"RabbitmqCluster/korpu-rabbitmq":       {"additionalConfig:", "additionalconfig:"},
			"Cluster/korpu-db":                     {"dataDurability:", "dataDurabilty:"},
			"ScaledObject/korpu":                   {"minReplicaCount:", "minReplicas:"},
			"TriggerAuthentication/korpu-rabbitmq": {"secretTargetRef:", "secretTargetRefs:"},
			"NetworkPolicy/korpu":                  {"podSelector:", "podselector:"},
		} {
			src, ok := b.docs[name]
			require.True(t, ok, name)
			bad := strings.Replace(string(src.yaml), typo[0], typo[1], 1)
			require.NotEqual(t, string(src.yaml), bad, name)
			_, err := decode(src.gvk, []byte(bad))
			require.ErrorContains(t, err, "unknown field", name)
		}
		_, err := decode("example.com/v1 Widget", []byte("apiVersion: example.com/v1\nkind: Widget\n"))
		require.ErrorContains(t, err, "unknown kind")
	})
}

// TestNoOrphans fails on a manifest no kustomization names: it would be in
// the repository but never deployed.
func TestNoOrphans(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"base", overlay} {
		k, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
		require.NoError(t, err)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			if e.Name() != "kustomization.yaml" {
				require.Contains(t, string(k), e.Name(), "%s/%s is named by no kustomization", dir, e.Name())
			}
		}
	}
}
