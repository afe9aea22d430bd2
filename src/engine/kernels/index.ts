// placeholder replaced below
export function nop(): void {}
