// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Test object: a TCP congestion control (tcp_cc.h) in a .struct_ops map,
// registered by writing the map's value (BPF_MAP_UPDATE_ELEM) and
// unregistered by deleting it.
#include "tcp_cc.h"

SEC(".struct_ops")
struct tcp_congestion_ops tsbpf_cc = TSBPF_CC_OPS("tsbpf_cc");
