// The faye package ships no type declarations; only the interop test imports it.
declare module 'faye';
