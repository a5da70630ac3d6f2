//go:build tools

// Package kubeserver pins the Kubernetes release whose API server (and garbage collector, in
// kube-controller-manager) the discovery tests run on loopback; bin/go-tools builds them.
package kubeserver

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
