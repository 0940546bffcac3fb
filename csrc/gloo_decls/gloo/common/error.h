// Declarations only (see ../README.md): nothing from this header is used by c10d's.
#pragma once
