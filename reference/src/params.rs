//! Named parameter lists: the checkpoint names, shapes and values of a model, in the order of
//! docs/runs.md. That order is also the layout of the GPU's one flat parameter buffer, so
//! [`flatten`] / [`unflatten`] convert between the two views.

/// One tensor: (checkpoint name, shape, row-major values).
pub type Param = (String, Vec<usize>, Vec<f64>);

/// The values of the tensor called `name`; panics if there is none.
pub fn get<'a>(params: &'a [Param], name: &str) -> &'a [f64] {
    &params
        .iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .2
}

/// Mutable values of the tensor called `name`; panics if there is none.
pub fn get_mut<'a>(params: &'a mut [Param], name: &str) -> &'a mut Vec<f64> {
    &mut params
        .iter_mut()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .2
}

/// Zero tensors with the given names and shapes, in the same order.
pub fn zeros(shapes: &[(String, Vec<usize>)]) -> Vec<Param> {
    shapes
        .iter()
        .map(|(n, s)| (n.clone(), s.clone(), vec![0.0; s.iter().product()]))
        .collect()
}

/// Panics unless `params` has exactly these names and shapes, in this order, with matching
/// value counts.
pub fn check_layout(params: &[Param], shapes: &[(String, Vec<usize>)]) {
    let got: Vec<(&str, &[usize])> = params
        .iter()
        .map(|(n, s, _)| (n.as_str(), s.as_slice()))
        .collect();
    let want: Vec<(&str, &[usize])> = shapes
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_slice()))
        .collect();
    assert_eq!(
        got, want,
        "parameter names/shapes/order differ from the model's"
    );
    for (n, s, v) in params {
        assert_eq!(
            v.len(),
            s.iter().product::<usize>(),
            "{n}: {} values for shape {s:?}",
            v.len()
        );
    }
}

/// All values concatenated in list order (the flat-buffer layout).
pub fn flatten(params: &[Param]) -> Vec<f64> {
    params
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .collect()
}

/// The inverse of [`flatten`]: cuts `flat` into tensors with the given names and shapes.
pub fn unflatten(flat: &[f64], shapes: &[(String, Vec<usize>)]) -> Vec<Param> {
    let total: usize = shapes
        .iter()
        .map(|(_, s)| s.iter().product::<usize>())
        .sum();
    assert_eq!(
        flat.len(),
        total,
        "unflatten: {} values for {total} parameters",
        flat.len()
    );
    let mut offset = 0;
    shapes
        .iter()
        .map(|(n, s)| {
            let len: usize = s.iter().product();
            offset += len;
            (n.clone(), s.clone(), flat[offset - len..offset].to_vec())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_round_trip_keeps_order() {
        let shapes = vec![("a".to_string(), vec![2, 2]), ("b".to_string(), vec![3])];
        let flat: Vec<f64> = (0..7).map(f64::from).collect();
        let params = unflatten(&flat, &shapes);
        assert_eq!(get(&params, "a"), &[0.0, 1.0, 2.0, 3.0]);
        assert_eq!(get(&params, "b"), &[4.0, 5.0, 6.0]);
        assert_eq!(flatten(&params), flat);
        check_layout(&params, &shapes);
    }

    #[test]
    #[should_panic(expected = "order differ")]
    fn check_layout_rejects_reordering() {
        let shapes = vec![("a".to_string(), vec![1]), ("b".to_string(), vec![1])];
        let swapped = vec![
            ("b".to_string(), vec![1], vec![0.0]),
            ("a".to_string(), vec![1], vec![0.0]),
        ];
        check_layout(&swapped, &shapes);
    }
}
