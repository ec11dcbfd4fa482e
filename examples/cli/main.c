#include <stdio.h>
#include <omni/omni.h>
int main(void) { printf("%s\n", omni_version()); return 0; }
