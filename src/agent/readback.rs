//! Host reads that stay cheap on a GPU: many tensors and whole modules travel back in **one**
//! packed read (one `mapAsync` in the browser), and a module read that way is rebuilt on another
//! device.
//!
//! On WebGPU every host read is a round trip that costs ~1–15 ms in Chrome and up to ~100 ms in
//! Firefox, whatever its size, and a synchronous read panics in wasm. So the agent never reads a
//! tensor on its own: it flattens what it needs ([`flatten_params`], statistics, checks), reads
//! the concatenation once ([`read_floats_async`]) and splits the floats on the host
//! ([`rebuild_params`]). `docs/method.md` §9 says when the agent reads.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{AlamError, Result};

/// Every float parameter of `module`, each flattened to `[numel]`, in the module's visiting
/// order (the order [`rebuild_params`] consumes them in). Views only: no kernel runs here.
pub fn flatten_params<M: Module>(module: &M) -> Vec<Tensor<1>> {
    struct Collect(Vec<Tensor<1>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let n = t.shape().num_elements();
            self.0.push(t.reshape([n]));
        }
    }
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
    c.0
}

/// How many floats [`flatten_params`] yields for `module`.
pub fn param_count<M: Module>(module: &M) -> usize {
    module.num_params()
}

/// `module` with every float parameter replaced by the next values of `data`, in visiting
/// order, as new tensors on `device` (parameter ids kept, so records and optimisers still
/// match). `data` must hold exactly [`param_count`] floats.
///
/// # Errors
/// [`AlamError::Device`] when `data` does not hold exactly the module's parameter count.
pub fn rebuild_params<M: Module>(module: M, data: &[f32], device: &Device) -> Result<M> {
    let want = param_count(&module);
    if data.len() != want {
        return Err(AlamError::Device(format!("read {} floats for a module of {want} parameters", data.len())));
    }
    struct Rebuild<'a> {
        data: &'a [f32],
        offset: usize,
        device: Device,
    }
    impl ModuleMapper for Rebuild<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (data, device) = (self.data, self.device.clone());
            let offset = &mut self.offset;
            param.map(|t| {
                let dims = t.dims();
                let n: usize = dims.iter().product();
                let values = data[*offset..*offset + n].to_vec();
                *offset += n;
                Tensor::from_data(TensorData::new(values, dims), &device)
            })
        }
    }
    let mut r = Rebuild { data, offset: 0, device: device.clone() };
    Ok(module.map(&mut r))
}

/// Reads a tensor to the host as f32. The only read the library uses: sync readback panics on
/// the browser's WebGPU device, and on the CPU device this future is ready at once.
///
/// # Errors
/// [`AlamError::Device`] when the device fails the read (a lost GPU device, for one).
pub async fn read_floats_async<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    let data = t.into_data_async().await.map_err(|e| AlamError::Device(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| AlamError::Device(format!("{e:?}")))
}

/// [`read_floats_async`], blocking: for native callers. Not compiled for wasm, so no
/// synchronous read can be reached from the page.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    pollster::block_on(read_floats_async(t))
}

/// `module` copied to `device` with one packed read (the CPU copy of a GPU network).
pub async fn copy_module<M: Module>(module: M, device: &Device) -> Result<M> {
    let parts = flatten_params(&module);
    if parts.is_empty() {
        return Ok(module);
    }
    let data = read_floats_async(Tensor::cat(parts, 0)).await?;
    rebuild_params(module, &data, device)
}

/// One scalar per module that is finite iff every parameter is: Σ (0 · p) is 0 for finite p
/// and NaN as soon as one p is NaN or ±∞. `[1]`, on the modules' device.
pub fn finiteness_probe(parts: Vec<Tensor<1>>) -> Option<Tensor<1>> {
    if parts.is_empty() {
        return None;
    }
    Some(Tensor::cat(parts, 0).mul_scalar(0.0).sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::nets::Actor;
    use crate::Rng64;
    use rand::SeedableRng;

    #[test]
    fn a_module_round_trips_through_one_packed_read() {
        let device = Device::flex();
        let actor = Actor::new(&mut Rng64::seed_from_u64(3), 4, 2, 8, &device);
        let want = read_floats(Tensor::cat(flatten_params(&actor), 0)).unwrap();
        assert_eq!(want.len(), param_count(&actor));
        let copy = pollster::block_on(copy_module(actor.clone(), &device)).unwrap();
        assert_eq!(read_floats(Tensor::cat(flatten_params(&copy), 0)).unwrap(), want);
        let obs = Tensor::<2>::from_data(TensorData::new(vec![0.3f32, -0.2, 0.5, 0.9], [1, 4]), &device);
        let (a, b) = (actor.forward(obs.clone()).0, copy.forward(obs).0);
        assert_eq!(read_floats(a).unwrap(), read_floats(b).unwrap());
        assert!(rebuild_params(actor, &want[1..], &device).is_err());
    }

    #[test]
    fn the_finiteness_probe_flags_nan_and_infinity() {
        let device = Device::flex();
        let t = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v.clone(), [v.len()]), &device);
        let probe = |v: Vec<f32>| read_floats(finiteness_probe(vec![t(vec![1e30, -2.0]), t(v)]).unwrap()).unwrap()[0];
        assert_eq!(probe(vec![0.5, 3.0]), 0.0);
        assert!(probe(vec![f32::INFINITY, 0.0]).is_nan());
        assert!(probe(vec![f32::NAN]).is_nan());
    }
}
