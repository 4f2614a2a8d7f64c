# Stand-in for OpenWrt's package.mk: BuildPackage makes two targets,
# compile (Build/Prepare, Build/Compile) and install (into DEST).
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)

define BuildPackage
.PHONY: compile install
compile:
	$$(Build/Prepare)
	$$(Build/Compile)
install:
	$$(call Package/$(1)/install,$$(DEST))
endef
