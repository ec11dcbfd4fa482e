typedef int omni__placeholder_cli;
