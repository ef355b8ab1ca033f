export const VERSION_PROBE = 'x';
