/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io.hmacd.Kms1 object: the vtable and its method handlers. */
#pragma once

#include "manager.h"

int bus_kms_add_object(Manager *m);
