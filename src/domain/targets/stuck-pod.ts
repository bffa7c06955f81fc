/**
 * A Deployment with `strategy: Recreate` deletes the old pods and waits for them to be gone
 * before it creates new ones (kubernetes pkg/controller/deployment/recreate.go), and a
 * StatefulSet does not replace a pod until the old one is gone. When the primary node is
 * dead its pod stays Terminating forever (kubernetes/kubernetes#112452), so the failover is
 * committed and applied, yet nothing starts on the backup node until someone acts.
 */
export function stuckPodWarning(file: string, what: string): string {
  return `${file}: ${what} waits for the old pod to terminate before it starts the new one; while the primary node is down that pod stays Terminating and the new one never starts. Unblock it by tainting the dead node (kubectl taint nodes <node> node.kubernetes.io/out-of-service=nodeshutdown:NoExecute) or deleting the stuck pod (kubectl delete pod <pod> --force --grace-period=0); see docs/configuration.md, "After a promote".`;
}
