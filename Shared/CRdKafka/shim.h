#pragma once
// Debian's librdkafka-dev header (2.0.2); at run time the binaries load librdkafka 2.16
// through the RUNPATH baked in by Package.swift (see docs/kafka.md).
#include <librdkafka/rdkafka.h>
