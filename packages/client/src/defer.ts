/** A promise with its settle functions; rejections are marked handled (callers may not await). */
export function defer(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  const d = {} as ReturnType<typeof defer>;
  d.promise = new Promise<void>((resolve, reject) => {
    d.resolve = resolve;
    d.reject = reject;
  });
  d.promise.catch(() => {});
  return d;
}
