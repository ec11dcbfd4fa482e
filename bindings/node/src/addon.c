typedef int omni__placeholder_addon;
