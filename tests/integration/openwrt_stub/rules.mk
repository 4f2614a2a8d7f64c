# Stand-in for OpenWrt's rules.mk (test_openwrt.py): just enough of the
# SDK's variables for packaging/openwrt/fcnat/Makefile to build on the host.
INCLUDE_DIR := $(TOPDIR)/include
TARGET_CC ?= gcc
TARGET_CFLAGS ?= -O2
TARGET_CPPFLAGS ?=
TARGET_LDFLAGS ?=
INSTALL_DIR := install -d -m0755
INSTALL_BIN := install -m0755
INSTALL_CONF := install -m0600
CP := cp -fpR
