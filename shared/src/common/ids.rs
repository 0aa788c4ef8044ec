//! Identifiers the hub mints: message ids (UUID v4) and opaque secrets.

use alloc::string::String;

use crate::ports::{Entropy, PortResult};

/// A random UUID v4 in its canonical lower-case form.
pub fn uuid_v4(entropy: &impl Entropy) -> PortResult<String> {
    let mut b = [0u8; 16];
    entropy.fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        push_hex(&mut s, *byte);
    }
    Ok(s)
}

/// `n` random bytes as lower-case hex (client ids, secrets, salts).
pub fn random_hex(entropy: &impl Entropy, n: usize) -> PortResult<String> {
    let mut buf = alloc::vec![0u8; n];
    entropy.fill(&mut buf)?;
    let mut s = String::with_capacity(n * 2);
    for b in buf {
        push_hex(&mut s, b);
    }
    Ok(s)
}

fn push_hex(s: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    s.push(HEX[(b >> 4) as usize] as char);
    s.push(HEX[(b & 15) as usize] as char);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::PortError;

    struct Fixed;
    impl Entropy for Fixed {
        fn fill(&self, buf: &mut [u8]) -> Result<(), PortError> {
            buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8 * 17);
            Ok(())
        }
    }

    #[test]
    fn uuid_shape() {
        let u = uuid_v4(&Fixed).unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(random_hex(&Fixed, 3).unwrap(), "001122");
    }
}
