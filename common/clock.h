/* clock.h - monotonic time; wall-clock time is never used for timers. */
#ifndef COMMON_CLOCK_H
#define COMMON_CLOCK_H

#include <stdint.h>

uint64_t mono_ns(void);
uint64_t mono_ms(void);

#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL

#endif
