// The faye package ships no type declarations; only the interop test (faye.test.ts) imports it.
declare module 'faye';
