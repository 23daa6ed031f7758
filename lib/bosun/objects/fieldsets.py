"""The fields of every core/v1 type an object of Bosun's resources can contain, as data.

One entry per type: `field:type` tokens, `!` after a name when Kubernetes' OpenAPI marks the
field required. Types: `s` string, `i` integer, `b` boolean, `t` RFC 3339 time, `q` quantity,
`x` int-or-string, `o` free-form JSON, `[T]` list, `{T}` map with string keys, or a type name.
The sets follow the `kubernetes` Python client 37 models (a superset of Kubernetes 1.32's);
tests/unit/test_objects_schema.py checks them against those models. `schema` reads this table.
"""

from __future__ import annotations

# Lists that strategic merge patch merges by key instead of replacing: (type, field) -> key.
# A key of "" merges a list of scalars as a set (metadata.finalizers).
MERGE_KEYS: dict[tuple[str, str], str] = {
    ("ObjectMeta", "finalizers"): "",
    ("ObjectMeta", "ownerReferences"): "uid",
    ("PodSpec", "containers"): "name",
    ("PodSpec", "initContainers"): "name",
    ("PodSpec", "ephemeralContainers"): "name",
    ("PodSpec", "volumes"): "name",
    ("PodSpec", "imagePullSecrets"): "name",
    ("PodSpec", "hostAliases"): "ip",
    ("PodSpec", "topologySpreadConstraints"): "topologyKey",
    ("PodSpec", "resourceClaims"): "name",
    ("PodSpec", "schedulingGates"): "name",
    ("Container", "ports"): "containerPort",
    ("Container", "env"): "name",
    ("Container", "volumeMounts"): "mountPath",
    ("Container", "volumeDevices"): "devicePath",
    ("EphemeralContainer", "ports"): "containerPort",
    ("EphemeralContainer", "env"): "name",
    ("EphemeralContainer", "volumeMounts"): "mountPath",
    ("EphemeralContainer", "volumeDevices"): "devicePath",
    ("PodStatus", "conditions"): "type",
    ("PodStatus", "podIPs"): "ip",
    ("PodStatus", "hostIPs"): "ip",
    ("PodStatus", "resourceClaimStatuses"): "name",
    ("ServiceSpec", "ports"): "port",
    ("ServiceStatus", "conditions"): "type",
    ("NodeSpec", "podCIDRs"): "",
    ("NodeStatus", "conditions"): "type",
    ("NodeStatus", "addresses"): "type",
    ("ReplicationControllerStatus", "conditions"): "type",
    ("NamespaceStatus", "conditions"): "type",
}
# Lists whose entries also drop the keys a patch leaves out ("merge,retainKeys").
RETAIN_KEYS: frozenset[tuple[str, str]] = frozenset({
    ("PodSpec", "volumes"), ("PodSpec", "resourceClaims"),
    ("PodStatus", "resourceClaimStatuses"),
})

# Types outside core/v1, for their OpenAPI names; all others are io.k8s.api.core.v1.
META_TYPES = frozenset({
    "ObjectMeta", "OwnerReference", "ManagedFieldsEntry", "LabelSelector",
    "LabelSelectorRequirement", "Condition", "Status", "StatusDetails", "StatusCause", "ListMeta",
    "DeleteOptions", "Preconditions",
})
AUTOSCALING_TYPES = frozenset({"Scale", "ScaleSpec", "ScaleStatus"})
POLICY_TYPES = frozenset({"Eviction"})

TYPES: dict[str, str] = {
    "AWSElasticBlockStoreVolumeSource": "fsType:s partition:i readOnly:b volumeID!:s",
    "Affinity": "nodeAffinity:NodeAffinity podAffinity:PodAffinity podAntiAffinity:PodAntiAffinity",
    "AppArmorProfile": "localhostProfile:s type!:s",
    "AttachedVolume": "devicePath!:s name!:s",
    "AzureDiskVolumeSource": "cachingMode:s diskName!:s diskURI!:s fsType:s kind:s readOnly:b",
    "AzureFileVolumeSource": "readOnly:b secretName!:s shareName!:s",
    "Binding": "apiVersion:s kind:s metadata:ObjectMeta target!:ObjectReference",
    "CSIVolumeSource": (
        "driver!:s fsType:s nodePublishSecretRef:LocalObjectReference readOnly:b "
        "volumeAttributes:{s}"
    ),
    "Capabilities": "add:[s] drop:[s]",
    "CephFSVolumeSource": (
        "monitors!:[s] path:s readOnly:b secretFile:s secretRef:LocalObjectReference user:s"
    ),
    "CinderVolumeSource": "fsType:s readOnly:b secretRef:LocalObjectReference volumeID!:s",
    "ClientIPConfig": "timeoutSeconds:i",
    "ClusterTrustBundleProjection": (
        "labelSelector:LabelSelector name:s optional:b path!:s signerName:s user:i"
    ),
    "Condition": (
        "lastTransitionTime!:t message!:s observedGeneration:i reason!:s status!:s type!:s"
    ),
    "ConfigMapEnvSource": "name:s optional:b",
    "ConfigMapKeySelector": "key!:s name:s optional:b",
    "ConfigMapNodeConfigSource": "kubeletConfigKey!:s name!:s namespace!:s resourceVersion:s uid:s",
    "ConfigMapProjection": "items:[KeyToPath] name:s optional:b",
    "ConfigMapVolumeSource": "defaultMode:i defaultUser:i items:[KeyToPath] name:s optional:b",
    "Container": (
        "args:[s] command:[s] env:[EnvVar] envFrom:[EnvFromSource] image:s imagePullPolicy:s "
        "lifecycle:Lifecycle livenessProbe:Probe name!:s ports:[ContainerPort] "
        "readinessProbe:Probe resizePolicy:[ContainerResizePolicy] resources:ResourceRequirements "
        "restartPolicy:s restartPolicyRules:[ContainerRestartRule] securityContext:SecurityContext "
        "startupProbe:Probe stdin:b stdinOnce:b terminationMessagePath:s "
        "terminationMessagePolicy:s tty:b volumeDevices:[VolumeDevice] volumeMounts:[VolumeMount] "
        "workingDir:s"
    ),
    "ContainerExtendedResourceRequest": "containerName!:s requestName!:s resourceName!:s",
    "ContainerImage": "names:[s] sizeBytes:i",
    "ContainerPort": "containerPort!:i hostIP:s hostPort:i name:s protocol:s",
    "ContainerResizePolicy": "resourceName!:s restartPolicy!:s",
    "ContainerRestartRule": "action!:s exitCodes:ContainerRestartRuleOnExitCodes",
    "ContainerRestartRuleOnExitCodes": "operator!:s values:[i]",
    "ContainerState": (
        "running:ContainerStateRunning terminated:ContainerStateTerminated "
        "waiting:ContainerStateWaiting"
    ),
    "ContainerStateRunning": "startedAt:t",
    "ContainerStateTerminated": (
        "containerID:s exitCode!:i finishedAt:t message:s reason:s signal:i startedAt:t"
    ),
    "ContainerStateWaiting": "message:s reason:s",
    "ContainerStatus": (
        "allocatedResources:{q} allocatedResourcesStatus:[ResourceStatus] containerID:s image!:s "
        "imageID!:s lastState:ContainerState name!:s ready!:b resources:ResourceRequirements "
        "restartCount!:i started:b state:ContainerState stopSignal:s user:ContainerUser "
        "volumeMounts:[VolumeMountStatus]"
    ),
    "ContainerUser": "linux:LinuxContainerUser",
    "DaemonEndpoint": "Port!:i",
    "DeleteOptions": (
        "apiVersion:s dryRun:[s] gracePeriodSeconds:i "
        "ignoreStoreReadErrorWithClusterBreakingPotential:b kind:s orphanDependents:b "
        "preconditions:Preconditions propagationPolicy:s"
    ),
    "DownwardAPIProjection": "items:[DownwardAPIVolumeFile]",
    "DownwardAPIVolumeFile": (
        "fieldRef:ObjectFieldSelector mode:i path!:s resourceFieldRef:ResourceFieldSelector user:i"
    ),
    "DownwardAPIVolumeSource": "defaultMode:i defaultUser:i items:[DownwardAPIVolumeFile]",
    "EmptyDirVolumeSource": "medium:s mode:i sizeLimit:q",
    "EndpointAddress": "hostname:s ip!:s nodeName:s targetRef:ObjectReference",
    "EndpointPort": "appProtocol:s name:s port!:i protocol:s",
    "EndpointSubset": (
        "addresses:[EndpointAddress] notReadyAddresses:[EndpointAddress] ports:[EndpointPort]"
    ),
    "Endpoints": "apiVersion:s kind:s metadata:ObjectMeta subsets:[EndpointSubset]",
    "EnvFromSource": "configMapRef:ConfigMapEnvSource prefix:s secretRef:SecretEnvSource",
    "EnvVar": "name!:s value:s valueFrom:EnvVarSource",
    "EnvVarSource": (
        "configMapKeyRef:ConfigMapKeySelector fieldRef:ObjectFieldSelector "
        "fileKeyRef:FileKeySelector resourceFieldRef:ResourceFieldSelector "
        "secretKeyRef:SecretKeySelector"
    ),
    "EphemeralContainer": (
        "args:[s] command:[s] env:[EnvVar] envFrom:[EnvFromSource] image:s imagePullPolicy:s "
        "lifecycle:Lifecycle livenessProbe:Probe name!:s ports:[ContainerPort] "
        "readinessProbe:Probe resizePolicy:[ContainerResizePolicy] resources:ResourceRequirements "
        "restartPolicy:s restartPolicyRules:[ContainerRestartRule] securityContext:SecurityContext "
        "startupProbe:Probe stdin:b stdinOnce:b targetContainerName:s terminationMessagePath:s "
        "terminationMessagePolicy:s tty:b volumeDevices:[VolumeDevice] volumeMounts:[VolumeMount] "
        "workingDir:s"
    ),
    "EphemeralVolumeSource": "volumeClaimTemplate:PersistentVolumeClaimTemplate",
    "Event": (
        "action:s apiVersion:s count:i eventTime:t firstTimestamp:t "
        "involvedObject!:ObjectReference kind:s lastTimestamp:t message:s metadata!:ObjectMeta "
        "reason:s related:ObjectReference reportingComponent:s reportingInstance:s "
        "series:EventSeries source:EventSource type:s"
    ),
    "EventSeries": "count:i lastObservedTime:t",
    "EventSource": "component:s host:s",
    "Eviction": "apiVersion:s deleteOptions:DeleteOptions kind:s metadata:ObjectMeta",
    "EvictionResponder": "name!:s priority!:i",
    "ExecAction": "command:[s]",
    "FCVolumeSource": "fsType:s lun:i readOnly:b targetWWNs:[s] wwids:[s]",
    "FileKeySelector": "key!:s optional:b path!:s volumeName!:s",
    "FlexVolumeSource": "driver!:s fsType:s options:{s} readOnly:b secretRef:LocalObjectReference",
    "FlockerVolumeSource": "datasetName:s datasetUUID:s",
    "GCEPersistentDiskVolumeSource": "fsType:s partition:i pdName!:s readOnly:b",
    "GRPCAction": "mode:s port!:i service:s",
    "GitRepoVolumeSource": "directory:s repository!:s revision:s",
    "GlusterfsVolumeSource": "endpoints!:s path!:s readOnly:b",
    "HTTPGetAction": "host:s httpHeaders:[HTTPHeader] path:s port!:x protocol:s scheme:s",
    "HTTPHeader": "name!:s value!:s",
    "HostAlias": "hostnames:[s] ip!:s",
    "HostIP": "ip!:s",
    "HostPathVolumeSource": "path!:s type:s",
    "ISCSIVolumeSource": (
        "chapAuthDiscovery:b chapAuthSession:b fsType:s initiatorName:s iqn!:s iscsiInterface:s "
        "lun!:i portals:[s] readOnly:b secretRef:LocalObjectReference targetPortal!:s"
    ),
    "ImageVolumeSource": "pullPolicy:s reference:s",
    "ImageVolumeStatus": "imageRef!:s",
    "KeyToPath": "key!:s mode:i path!:s user:i",
    "LabelSelector": "matchExpressions:[LabelSelectorRequirement] matchLabels:{s}",
    "LabelSelectorRequirement": "key!:s operator!:s values:[s]",
    "Lifecycle": "postStart:LifecycleHandler preStop:LifecycleHandler stopSignal:s",
    "LifecycleHandler": (
        "exec:ExecAction httpGet:HTTPGetAction sleep:SleepAction tcpSocket:TCPSocketAction"
    ),
    "LinuxContainerUser": "gid!:i supplementalGroups:[i] uid!:i",
    "ListMeta": "continue:s remainingItemCount:i resourceVersion:s selfLink:s shardInfo:ShardInfo",
    "LoadBalancerIngress": "hostname:s ip:s ipMode:s ports:[PortStatus]",
    "LoadBalancerStatus": "ingress:[LoadBalancerIngress]",
    "LocalObjectReference": "name:s",
    "ManagedFieldsEntry": (
        "apiVersion:s fieldsType:s fieldsV1:o manager:s operation:s subresource:s time:t"
    ),
    "NFSVolumeSource": "path!:s readOnly:b server!:s",
    "Namespace": (
        "apiVersion:s kind:s metadata:ObjectMeta spec:NamespaceSpec status:NamespaceStatus"
    ),
    "NamespaceCondition": "lastTransitionTime:t message:s reason:s status!:s type!:s",
    "NamespaceSpec": "finalizers:[s]",
    "NamespaceStatus": "conditions:[NamespaceCondition] phase:s",
    "Node": "apiVersion:s kind:s metadata:ObjectMeta spec:NodeSpec status:NodeStatus",
    "NodeAddress": "address!:s type!:s",
    "NodeAffinity": (
        "preferredDuringSchedulingIgnoredDuringExecution:[PreferredSchedulingTerm] "
        "requiredDuringSchedulingIgnoredDuringExecution:NodeSelector"
    ),
    "NodeAllocatableMappedResources": "name!:s quantity!:q",
    "NodeAllocatableOverheadResources": "name!:s perContainer:s perPod:s",
    "NodeAllocatableResourceClaimStatus": (
        "containers:[s] mapping:[NodeAllocatableMappedResources] "
        "overhead:[NodeAllocatableOverheadResources] resourceClaimName!:s"
    ),
    "NodeCondition": (
        "lastHeartbeatTime:t lastTransitionTime:t message:s reason:s status!:s type!:s"
    ),
    "NodeConfigSource": "configMap:ConfigMapNodeConfigSource",
    "NodeConfigStatus": (
        "active:NodeConfigSource assigned:NodeConfigSource error:s lastKnownGood:NodeConfigSource"
    ),
    "NodeDaemonEndpoints": "kubeletEndpoint:DaemonEndpoint",
    "NodeFeatures": "supplementalGroupsPolicy:b",
    "NodePodPreemptionPolicy": "disableResizePreemption:[s]",
    "NodeRuntimeHandler": "features:NodeRuntimeHandlerFeatures name:s",
    "NodeRuntimeHandlerFeatures": "recursiveReadOnlyMounts:b userNamespaces:b",
    "NodeSelector": "nodeSelectorTerms!:[NodeSelectorTerm]",
    "NodeSelectorRequirement": "key!:s operator!:s values:[s]",
    "NodeSelectorTerm": (
        "matchExpressions:[NodeSelectorRequirement] matchFields:[NodeSelectorRequirement]"
    ),
    "NodeSpec": (
        "configSource:NodeConfigSource externalID:s podCIDR:s podCIDRs:[s] "
        "podPreemptionPolicy:NodePodPreemptionPolicy providerID:s taints:[Taint] unschedulable:b"
    ),
    "NodeStatus": (
        "addresses:[NodeAddress] allocatable:{q} capacity:{q} conditions:[NodeCondition] "
        "config:NodeConfigStatus daemonEndpoints:NodeDaemonEndpoints declaredFeatures:[s] "
        "features:NodeFeatures images:[ContainerImage] nodeInfo:NodeSystemInfo phase:s "
        "runtimeHandlers:[NodeRuntimeHandler] volumesAttached:[AttachedVolume] volumesInUse:[s]"
    ),
    "NodeSwapStatus": "capacity:i",
    "NodeSystemInfo": (
        "architecture!:s bootID!:s containerRuntimeVersion!:s kernelVersion!:s kubeProxyVersion!:s "
        "kubeletVersion!:s machineID!:s operatingSystem!:s osImage!:s runningInUserNamespace:b "
        "swap:NodeSwapStatus systemUUID!:s"
    ),
    "ObjectFieldSelector": "apiVersion:s fieldPath!:s",
    "ObjectMeta": (
        "annotations:{s} creationTimestamp:t deletionGracePeriodSeconds:i deletionTimestamp:t "
        "finalizers:[s] generateName:s generation:i labels:{s} managedFields:[ManagedFieldsEntry] "
        "name:s namespace:s ownerReferences:[OwnerReference] resourceVersion:s selfLink:s uid:s"
    ),
    "ObjectReference": "apiVersion:s fieldPath:s kind:s name:s namespace:s resourceVersion:s uid:s",
    "OwnerReference": "apiVersion!:s blockOwnerDeletion:b controller:b kind!:s name!:s uid!:s",
    "PersistentVolumeClaimSpec": (
        "accessModes:[s] dataSource:TypedLocalObjectReference dataSourceRef:TypedObjectReference "
        "resources:VolumeResourceRequirements selector:LabelSelector storageClassName:s "
        "volumeAttributesClassName:s volumeMode:s volumeName:s"
    ),
    "PersistentVolumeClaimTemplate": "metadata:ObjectMeta spec!:PersistentVolumeClaimSpec",
    "PersistentVolumeClaimVolumeSource": "claimName!:s readOnly:b",
    "PhotonPersistentDiskVolumeSource": "fsType:s pdID!:s",
    "Pod": "apiVersion:s kind:s metadata:ObjectMeta spec:PodSpec status:PodStatus",
    "PodAffinity": (
        "preferredDuringSchedulingIgnoredDuringExecution:[WeightedPodAffinityTerm] "
        "requiredDuringSchedulingIgnoredDuringExecution:[PodAffinityTerm]"
    ),
    "PodAffinityTerm": (
        "labelSelector:LabelSelector matchLabelKeys:[s] mismatchLabelKeys:[s] "
        "namespaceSelector:LabelSelector namespaces:[s] topologyKey!:s"
    ),
    "PodAntiAffinity": (
        "preferredDuringSchedulingIgnoredDuringExecution:[WeightedPodAffinityTerm] "
        "requiredDuringSchedulingIgnoredDuringExecution:[PodAffinityTerm]"
    ),
    "PodCertificateProjection": (
        "certificateChainPath:s credentialBundlePath:s keyPath:s keyType!:s maxExpirationSeconds:i "
        "signerName!:s user:i userAnnotations:{s}"
    ),
    "PodCondition": (
        "lastProbeTime:t lastTransitionTime:t message:s observedGeneration:i reason:s status!:s "
        "type!:s"
    ),
    "PodDNSConfig": "nameservers:[s] options:[PodDNSConfigOption] searches:[s]",
    "PodDNSConfigOption": "name:s value:s",
    "PodExtendedResourceClaimStatus": (
        "requestMappings!:[ContainerExtendedResourceRequest] resourceClaimName!:s"
    ),
    "PodIP": "ip!:s",
    "PodOS": "name!:s",
    "PodReadinessGate": "conditionType!:s",
    "PodResourceClaim": "name!:s resourceClaimName:s resourceClaimTemplateName:s",
    "PodResourceClaimStatus": "name!:s resourceClaimName:s",
    "PodSchedulingGate": "name!:s",
    "PodSchedulingGroup": "podGroupName:s",
    "PodSecurityContext": (
        "appArmorProfile:AppArmorProfile fsGroup:i fsGroupChangePolicy:s runAsGroup:i "
        "runAsNonRoot:b runAsUser:i seLinuxChangePolicy:s seLinuxOptions:SELinuxOptions "
        "seccompProfile:SeccompProfile supplementalGroups:[i] supplementalGroupsPolicy:s "
        "sysctls:[Sysctl] windowsOptions:WindowsSecurityContextOptions"
    ),
    "PodSpec": (
        "activeDeadlineSeconds:i affinity:Affinity automountServiceAccountToken:b "
        "containers!:[Container] dnsConfig:PodDNSConfig dnsPolicy:s enableServiceLinks:b "
        "ephemeralContainers:[EphemeralContainer] evictionResponders:[EvictionResponder] "
        "hostAliases:[HostAlias] hostIPC:b hostNetwork:b hostPID:b hostUsers:b hostname:s "
        "hostnameOverride:s imagePullSecrets:[LocalObjectReference] initContainers:[Container] "
        "nodeName:s nodeSelector:{s} os:PodOS overhead:{q} preemptionPolicy:s priority:i "
        "priorityClassName:s readinessGates:[PodReadinessGate] resourceClaims:[PodResourceClaim] "
        "resources:ResourceRequirements restartPolicy:s runtimeClassName:s schedulerName:s "
        "schedulingGates:[PodSchedulingGate] schedulingGroup:PodSchedulingGroup "
        "securityContext:PodSecurityContext serviceAccount:s serviceAccountName:s "
        "setHostnameAsFQDN:b shareProcessNamespace:b subdomain:s terminationGracePeriodSeconds:i "
        "tolerations:[Toleration] topologySpreadConstraints:[TopologySpreadConstraint] "
        "volumes:[Volume]"
    ),
    "PodStatus": (
        "allocatedResources:{q} conditions:[PodCondition] containerStatuses:[ContainerStatus] "
        "ephemeralContainerStatuses:[ContainerStatus] "
        "extendedResourceClaimStatus:PodExtendedResourceClaimStatus hostIP:s hostIPs:[HostIP] "
        "initContainerStatuses:[ContainerStatus] message:s "
        "nodeAllocatableResourceClaimStatuses:[NodeAllocatableResourceClaimStatus] "
        "nominatedNodeName:s observedGeneration:i phase:s podIP:s podIPs:[PodIP] qosClass:s "
        "reason:s resize:s resourceClaimStatuses:[PodResourceClaimStatus] "
        "resources:ResourceRequirements startTime:t volumeHealth:[PodVolumeHealth]"
    ),
    "PodTemplate": "apiVersion:s kind:s metadata:ObjectMeta template:PodTemplateSpec",
    "PodTemplateSpec": "metadata:ObjectMeta spec:PodSpec",
    "PodVolumeHealth": "healthConditions:[VolumeHealthCondition] lastTransitionTime:t name!:s",
    "PortStatus": "error:s port!:i protocol!:s",
    "PortworxVolumeSource": "fsType:s readOnly:b volumeID!:s",
    "Preconditions": "resourceVersion:s uid:s",
    "PreferredSchedulingTerm": "preference!:NodeSelectorTerm weight!:i",
    "Probe": (
        "exec:ExecAction failureThreshold:i grpc:GRPCAction httpGet:HTTPGetAction "
        "initialDelaySeconds:i periodSeconds:i successThreshold:i tcpSocket:TCPSocketAction "
        "terminationGracePeriodSeconds:i timeoutSeconds:i"
    ),
    "ProjectedVolumeSource": "defaultMode:i defaultUser:i sources:[VolumeProjection]",
    "QuobyteVolumeSource": "group:s readOnly:b registry!:s tenant:s user:s volume!:s",
    "RBDVolumeSource": (
        "fsType:s image!:s keyring:s monitors!:[s] pool:s readOnly:b "
        "secretRef:LocalObjectReference user:s"
    ),
    "ReplicationController": (
        "apiVersion:s kind:s metadata:ObjectMeta spec:ReplicationControllerSpec "
        "status:ReplicationControllerStatus"
    ),
    "ReplicationControllerCondition": "lastTransitionTime:t message:s reason:s status!:s type!:s",
    "ReplicationControllerSpec": (
        "minReadySeconds:i replicas:i selector:{s} template:PodTemplateSpec"
    ),
    "ReplicationControllerStatus": (
        "availableReplicas:i conditions:[ReplicationControllerCondition] fullyLabeledReplicas:i "
        "observedGeneration:i readyReplicas:i replicas!:i"
    ),
    "ResourceClaim": "name!:s request:s",
    "ResourceFieldSelector": "containerName:s divisor:q resource!:s",
    "ResourceHealth": "health:s message:s resourceID!:s",
    "ResourceRequirements": "claims:[ResourceClaim] limits:{q} requests:{q}",
    "ResourceStatus": "name!:s resources:[ResourceHealth]",
    "SELinuxOptions": "level:s role:s type:s user:s",
    "Scale": "apiVersion:s kind:s metadata:ObjectMeta spec:ScaleSpec status:ScaleStatus",
    "ScaleIOVolumeSource": (
        "fsType:s gateway!:s protectionDomain:s readOnly:b secretRef!:LocalObjectReference "
        "sslEnabled:b storageMode:s storagePool:s system!:s volumeName:s"
    ),
    "ScaleSpec": "replicas:i",
    "ScaleStatus": "replicas!:i selector:s",
    "SeccompProfile": "localhostProfile:s type!:s",
    "SecretEnvSource": "name:s optional:b",
    "SecretKeySelector": "key!:s name:s optional:b",
    "SecretProjection": "items:[KeyToPath] name:s optional:b",
    "SecretVolumeSource": "defaultMode:i defaultUser:i items:[KeyToPath] optional:b secretName:s",
    "SecurityContext": (
        "allowPrivilegeEscalation:b appArmorProfile:AppArmorProfile capabilities:Capabilities "
        "privileged:b procMount:s readOnlyRootFilesystem:b runAsGroup:i runAsNonRoot:b runAsUser:i "
        "seLinuxOptions:SELinuxOptions seccompProfile:SeccompProfile "
        "windowsOptions:WindowsSecurityContextOptions"
    ),
    "Service": "apiVersion:s kind:s metadata:ObjectMeta spec:ServiceSpec status:ServiceStatus",
    "ServiceAccountTokenProjection": "audience:s expirationSeconds:i path!:s user:i",
    "ServicePort": "appProtocol:s name:s nodePort:i port!:i protocol:s targetPort:x",
    "ServiceSpec": (
        "allocateLoadBalancerNodePorts:b clusterIP:s clusterIPs:[s] externalIPs:[s] externalName:s "
        "externalTrafficPolicy:s healthCheckNodePort:i internalTrafficPolicy:s ipFamilies:[s] "
        "ipFamilyPolicy:s loadBalancerClass:s loadBalancerIP:s loadBalancerSourceRanges:[s] "
        "ports:[ServicePort] publishNotReadyAddresses:b selector:{s} sessionAffinity:s "
        "sessionAffinityConfig:SessionAffinityConfig trafficDistribution:s type:s"
    ),
    "ServiceStatus": "conditions:[Condition] loadBalancer:LoadBalancerStatus",
    "SessionAffinityConfig": "clientIP:ClientIPConfig",
    "ShardInfo": "selector!:s",
    "SleepAction": "seconds!:i",
    "Status": (
        "apiVersion:s code:i details:StatusDetails kind:s message:s metadata:ListMeta reason:s "
        "status:s"
    ),
    "StatusCause": "field:s message:s reason:s",
    "StatusDetails": "causes:[StatusCause] group:s kind:s name:s retryAfterSeconds:i uid:s",
    "StorageOSVolumeSource": (
        "fsType:s readOnly:b secretRef:LocalObjectReference volumeName:s volumeNamespace:s"
    ),
    "Sysctl": "name!:s value!:s",
    "TCPSocketAction": "host:s port!:x",
    "Taint": "effect!:s key!:s timeAdded:t value:s",
    "Toleration": "effect:s key:s operator:s tolerationSeconds:i value:s",
    "TopologySpreadConstraint": (
        "labelSelector:LabelSelector matchLabelKeys:[s] maxSkew!:i minDomains:i "
        "nodeAffinityPolicy:s nodeTaintsPolicy:s topologyKey!:s whenUnsatisfiable!:s"
    ),
    "TypedLocalObjectReference": "apiGroup:s kind!:s name!:s",
    "TypedObjectReference": "apiGroup:s kind!:s name!:s namespace:s",
    "Volume": (
        "awsElasticBlockStore:AWSElasticBlockStoreVolumeSource azureDisk:AzureDiskVolumeSource "
        "azureFile:AzureFileVolumeSource cephfs:CephFSVolumeSource cinder:CinderVolumeSource "
        "configMap:ConfigMapVolumeSource csi:CSIVolumeSource downwardAPI:DownwardAPIVolumeSource "
        "emptyDir:EmptyDirVolumeSource ephemeral:EphemeralVolumeSource fc:FCVolumeSource "
        "flexVolume:FlexVolumeSource flocker:FlockerVolumeSource "
        "gcePersistentDisk:GCEPersistentDiskVolumeSource gitRepo:GitRepoVolumeSource "
        "glusterfs:GlusterfsVolumeSource hostPath:HostPathVolumeSource image:ImageVolumeSource "
        "iscsi:ISCSIVolumeSource name!:s nfs:NFSVolumeSource "
        "persistentVolumeClaim:PersistentVolumeClaimVolumeSource "
        "photonPersistentDisk:PhotonPersistentDiskVolumeSource portworxVolume:PortworxVolumeSource "
        "projected:ProjectedVolumeSource quobyte:QuobyteVolumeSource rbd:RBDVolumeSource "
        "scaleIO:ScaleIOVolumeSource secret:SecretVolumeSource storageos:StorageOSVolumeSource "
        "vsphereVolume:VsphereVirtualDiskVolumeSource"
    ),
    "VolumeDevice": "devicePath!:s name!:s",
    "VolumeHealthCondition": "message:s reason!:s status!:s",
    "VolumeMount": (
        "bindMountOptions:[s] mountPath!:s mountPropagation:s name!:s readOnly:b "
        "recursiveReadOnly:s subPath:s subPathExpr:s"
    ),
    "VolumeMountStatus": (
        "mountPath!:s name!:s readOnly:b recursiveReadOnly:s volumeStatus:VolumeStatus"
    ),
    "VolumeProjection": (
        "clusterTrustBundle:ClusterTrustBundleProjection configMap:ConfigMapProjection "
        "downwardAPI:DownwardAPIProjection podCertificate:PodCertificateProjection "
        "secret:SecretProjection serviceAccountToken:ServiceAccountTokenProjection"
    ),
    "VolumeResourceRequirements": "limits:{q} requests:{q}",
    "VolumeStatus": "image:ImageVolumeStatus",
    "VsphereVirtualDiskVolumeSource": (
        "fsType:s storagePolicyID:s storagePolicyName:s volumePath!:s"
    ),
    "WeightedPodAffinityTerm": "podAffinityTerm!:PodAffinityTerm weight!:i",
    "WindowsSecurityContextOptions": (
        "gmsaCredentialSpec:s gmsaCredentialSpecName:s hostProcess:b runAsUserName:s"
    ),
}
