// The browser never sends a plain password (contract §3.3): it sends
// bcrypt(md5hex(plain), fixed client salt) without its 29-character
// "$2a$10$<salt>" prefix. The server bcrypts that wire form again, so a
// stolen database or log never shows the password a user typed.
import bcrypt from 'bcryptjs';
import SparkMD5 from 'spark-md5';

const CLIENT_SALT = '$2a$10$o5L.dWYEjZjaejOmN3x4Qu';

/** The wire form of a password: "123456" -> "MFfTW3uNI4eqhwDkG7HP9p2mzEUu/r2". */
export async function wirePassword(plain) {
  const hashed = await bcrypt.hash(SparkMD5.hash(plain), CLIENT_SALT);
  return hashed.substring(29);
}
