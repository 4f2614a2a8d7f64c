/* SPDX-License-Identifier: GPL-2.0 */
/* The XDP build of the xlat probe shares its contract. */
#include "xlat_probe.h"
