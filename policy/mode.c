#include "policy/policy.h"

const char *access_mode_name(enum access_mode m)
{
	static const char *const names[] = {
	    [MODE_NONE] = "none", [MODE_HOME] = "home", [MODE_C] = "c",
	    [MODE_F] = "f",	  [MODE_MC] = "mc",
	};

	return m <= MODE_MC ? names[m] : "?";
}
