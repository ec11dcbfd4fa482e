/* placeholder: implemented by its component (issue 2) */
typedef int omni__placeholder_hash;
