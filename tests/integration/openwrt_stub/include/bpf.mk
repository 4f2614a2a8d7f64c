# Stand-in for OpenWrt's bpf.mk: the host's clang, little-endian BPF.
BPF_DEPENDS := @HAS_BPF_TOOLCHAIN
CLANG ?= clang
BPF_TARGET := bpfel
